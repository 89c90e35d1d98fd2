/**
 * `kiln ps --filter` as docker's: status= (and exited=) show stopped
 * containers without -a, label=KEY and KEY=VALUE, ancestor= by name or image
 * ID, name=; keys must all hold, values of one key are alternatives.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let tmp: string;
let root: string;
let bb2: string;
const k = (args: string[]) => kilnOk(['--backend', 'local', ...args], { root });
const names = async (...filters: string[]) =>
  (await k(['ps', ...filters.flatMap((f) => (f === '-a' ? ['-a'] : ['--filter', f])), '--format', '{{.Names}}'])).stdout.trim().split('\n').filter(Boolean).sort();

before(async () => {
  tmp = await tempDir('kiln-ps-filter-');
  root = path.join(tmp, 'root');
  const rootfs = path.join(testCache(), 'busybox-rootfs.tar');
  await k(['import', rootfs, 'bb:1']);
  bb2 = (await k(['import', '-c', 'ENV V=2', rootfs, 'bb:2'])).stdout.trim();
  await k(['create', '--name', 'fresh', '--label', 'team=a', 'bb:1', 'true']);
  const three = await kiln(['--backend', 'local', 'run', '--name', 'three', '--label', 'team=b', '--network', 'none', 'bb:2', 'sh', '-c', 'exit 3'], { root });
  assert.equal(three.code, 3);
  await k(['run', '--name', 'zero', '--label', 'solo', '--network', 'none', 'bb:1', 'true']);
  await k(['run', '-d', '--name', 'up', '--label', 'team=a', '--network', 'none', 'bb:2', 'sleep', '300']);
});
after(async () => {
  await kiln(['--backend', 'local', 'rm', '-f', 'up', 'fresh', 'three', 'zero'], { root });
  await removeDir(tmp);
});

test('status= and exited= show stopped containers without -a', async () => {
  assert.deepEqual(await names(), ['up']);
  assert.deepEqual(await names('status=exited'), ['three', 'zero']);
  assert.deepEqual(await names('status=created'), ['fresh']);
  assert.deepEqual(await names('status=running'), ['up']);
  assert.deepEqual(await names('status=created', 'status=running'), ['fresh', 'up']);
  assert.deepEqual(await names('exited=3'), ['three']);
  assert.deepEqual(await names('exited=0'), ['zero']);
});

test('label=, ancestor=, name=: keys must all hold', async () => {
  assert.deepEqual(await names('-a', 'label=team'), ['fresh', 'three', 'up']);
  assert.deepEqual(await names('-a', 'label=team=a'), ['fresh', 'up']);
  assert.deepEqual(await names('-a', 'label=solo'), ['zero']);
  assert.deepEqual(await names('-a', 'ancestor=bb:2'), ['three', 'up']);
  assert.deepEqual(await names('-a', `ancestor=${bb2.slice('sha256:'.length, 'sha256:'.length + 12)}`), ['three', 'up']);
  assert.deepEqual(await names('-a', 'ancestor=bb:1', 'label=team=a'), ['fresh']);
  assert.deepEqual(await names('-a', 'name=ze'), ['zero']);
  const bad = await kiln(['--backend', 'local', 'ps', '--filter', 'colour=red'], { root });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'kiln: invalid filter "colour=red" (use name=, status=, id=, label=, ancestor= or exited=)\n');
});
