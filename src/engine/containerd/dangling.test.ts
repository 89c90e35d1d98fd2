/**
 * Dangling images on the containerd backend (issue 14, defect 7): a tag moved
 * to another image leaves the old one under its ID record only; kiln lists it
 * as `<none>:<none>` as Docker does, and `system prune` / `image prune`
 * remove it (its record; containerd's GC then frees its blobs and snapshots).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kiln, kilnOk, testCache } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let ctd: TestContainerd;
let tmp: string;

before(async () => {
  [ctd, tmp] = await Promise.all([startContainerd(), tempDir('kiln-ctd-dangling-')]);
});
after(async () => {
  await ctd?.stop();
  await removeDir(tmp);
});

const onCtd = (args: string[]) => kilnOk(['--backend', 'containerd', '--address', ctd.address, ...args], { root: path.join(tmp, 'unused') });
const noneRows = async () => (await onCtd(['images'])).stdout.split('\n').filter((l) => /^<none>\s+<none>\s/.test(l));
const ctrNames = async () => (await ctd.ctr(['images', 'ls', '-q'], { namespace: 'k8s.io' })).trim().split('\n').filter(Boolean);

test('a re-imported tag leaves the old image as <none>:<none>; image prune removes it from containerd', async () => {
  const old = (await onCtd(['import', busybox, 'dangling/app:1'])).stdout.trim();
  const now = (await onCtd(['import', '-c', 'ENV NEW=1', busybox, 'dangling/app:1'])).stdout.trim();
  assert.notEqual(old, now);
  const rows = await noneRows();
  assert.equal(rows.length, 1);
  assert.ok(rows[0]!.includes(old.slice(7, 19)));
  assert.ok((await ctrNames()).includes(old), "containerd still holds the old image's ID record");
  assert.equal(JSON.parse((await onCtd(['inspect', old.slice(7, 19)])).stdout)[0].Id, old, 'inspect by ID finds it');

  const pruned = await onCtd(['image', 'prune', '-f']);
  assert.match(pruned.stdout, new RegExp(`^Deleted Images:\\ndeleted: ${old}\\n\\nTotal reclaimed space: \\d[\\d.]*[kM]?B\\n$`));
  assert.deepEqual(await noneRows(), []);
  assert.equal((await ctrNames()).includes(old), false);
  assert.equal((await kiln(['--backend', 'containerd', '--address', ctd.address, 'inspect', 'dangling/app:1'], { root: path.join(tmp, 'unused') })).code, 0);
  const all = await kiln(['--backend', 'containerd', '--address', ctd.address, 'image', 'prune', '-a'], { root: path.join(tmp, 'unused') });
  assert.equal(all.code, 1);
  assert.match(all.stderr, /^kiln: image prune -a is not available on the containerd backend/);
});
