import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { startContainerd } from './containerd.js';

test('two test containerds run side by side with their own sockets, the CRI plugin on, and leave nothing behind', async () => {
  const [a, b] = await Promise.all([startContainerd(), startContainerd()]);
  try {
    assert.notEqual(a.address, b.address);
    for (const c of [a, b]) {
      assert.match(await c.ctr(['version']), /Server:\s+Version:\s+\S+/);
      const plugins = await c.ctr(['plugins', 'ls']);
      assert.match(plugins, /io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/);
      assert.match(plugins, /io\.containerd\.snapshotter\.v1\s+overlayfs\s+\S+\s+ok/);
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  for (const c of [a, b]) {
    assert.equal(existsSync(c.dir), false, `${c.dir} removed`);
    assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(c.dir), false, `no mount left under ${c.dir}`);
  }
});
