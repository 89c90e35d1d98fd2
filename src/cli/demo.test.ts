/**
 * The README's first command builds examples/hello and runs it: this keeps
 * that example building and printing what the demo shows.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kilnOk, repoRoot, testCache } from '../testing/kiln.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-demo-'));
const root = path.join(tmp, 'root');
after(() => rmSync(tmp, { recursive: true, force: true }));

test('examples/hello builds on the imported busybox base and runs', async () => {
  await kilnOk(['import', '--change', 'CMD ["sh"]', path.join(testCache(), 'busybox-rootfs.tar'), 'demo/busybox:1.0'], { root });
  await kilnOk(['build', '-q', '-t', 'hello:1', '--build-arg', 'GREETING=howdy', path.join(repoRoot(), 'examples', 'hello')], { root });
  const out = await kilnOk(['run', '--rm', '--network', 'none', 'hello:1'], { root });
  assert.equal(out.stdout, `howdy from a kiln-built image\nbuilt by kiln on ${os.machine()}\n`);
});
