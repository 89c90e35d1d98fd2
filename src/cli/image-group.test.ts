/** kim's `kiln image …` group: the same commands as the top-level ones, same output. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';
import { removeDir, tempDir } from '../testing/tempdir.js';

let root: string;
before(async () => {
  root = await tempDir('kiln-image-group-');
});
after(() => removeDir(root));

test('image import, ls, tag, inspect, rm act on the same store as import, images, tag, inspect, rmi', async () => {
  const id = (await kilnOk(['image', 'import', path.join(testCache(), 'busybox-rootfs.tar'), 'grp/bb:1'], { root })).stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  await kilnOk(['image', 'tag', 'grp/bb:1', 'grp/bb:2'], { root });
  const ls = await kilnOk(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root });
  const images = await kilnOk(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'], { root });
  assert.equal(ls.stdout, images.stdout);
  assert.deepEqual(ls.stdout.trim().split('\n').sort(), [`grp/bb:1 ${id.slice(7, 19)}`, `grp/bb:2 ${id.slice(7, 19)}`]);
  const inspected = JSON.parse((await kilnOk(['image', 'inspect', 'grp/bb:2'], { root })).stdout) as { Id: string }[];
  assert.equal(inspected[0]!.Id, id);
  const rm = await kilnOk(['image', 'rm', 'grp/bb:2'], { root });
  assert.equal(rm.stdout, 'Untagged: grp/bb:2\n');
  const gone = await kiln(['image', 'inspect', 'grp/bb:2'], { root });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /grp\/bb:2/);
});
