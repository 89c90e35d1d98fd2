/**
 * `kiln system df` and `kiln builder prune` on the containerd backend, from
 * containerd's records (images: blobs + snapshot usage; kiln's containers:
 * their writable snapshots) and the build cache under --root, in docker's
 * table form; what builder prune removes is gone (a rebuild runs the step again).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kilnOk, testCache } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { humanSize } from '../../cli/output.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
const ROW = '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}';
let ctd: TestContainerd;
let tmp: string;

before(async () => {
  [ctd, tmp] = await Promise.all([startContainerd(), tempDir('kiln-ctd-df-')]);
});
after(async () => {
  await ctd?.stop();
  await removeDir(tmp);
});

const k = (args: string[]) => kilnOk(['--backend', 'containerd', '--address', ctd.address, '--namespace', 'kiln-df', ...args], { root: path.join(tmp, 'work') });
const rows = async () => (await k(['system', 'df', '--format', ROW])).stdout.trimEnd().split('\n').map((l) => l.split('|'));
const parse = (s: string): number => {
  const m = /^([\d.]+)(B|kB|MB|GB)/.exec(s)!;
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B'];
};
/** Bytes of every blob in containerd's content store. */
function blobBytes(): number {
  const dir = path.join(ctd.root, 'io.containerd.content.v1.content', 'blobs', 'sha256');
  return readdirSync(dir).reduce((n, f) => n + lstatSync(path.join(dir, f)).size, 0);
}

test('system df on containerd: docker\'s four rows from containerd\'s records; builder prune removes the cache no image uses', async () => {
  const empty = await k(['system', 'df']);
  assert.deepEqual(empty.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/)), [
    ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
    ['Images', '0', '0', '0B', '0B'],
    ['Containers', '0', '0', '0B', '0B'],
    ['Local Volumes', '0', '0', '0B', '0B'],
    ['Build Cache', '0', '0', '0B', '0B'],
  ]);

  await k(['import', busybox, 'df/base:1']);
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM df/base:1\nRUN head -c 300000 /dev/zero > /zeros\n');
  await k(['build', '-q', '-t', 'df/built:1', ctx]);
  await k(['run', '-d', '--name', 'c1', '--network', 'none', 'df/base:1', 'sh', '-c', 'head -c 5000 /dev/zero > /written; sleep 300']);
  await k(['exec', 'c1', 'test', '-e', '/written']);

  const [images, containers, volumes, cache] = await rows();
  assert.deepEqual(images!.slice(0, 3), ['Images', '2', '1']);
  // Blobs (the import's layer, the build's 300 kB layer, configs, manifests) plus the unpacked snapshots.
  assert.ok(parse(images![3]!) >= blobBytes() * 0.99 && parse(images![3]!) > 2 * 300_000, `${images![3]} vs ${humanSize(blobBytes())} of blobs`);
  assert.equal(images![4], '0B (0%)', 'named images are not what kiln prunes on containerd');
  assert.deepEqual(containers!.slice(0, 3), ['Containers', '1', '1']);
  assert.ok(parse(containers![3]!) >= 5000, containers![3]);
  assert.equal(containers![4], '0B (0%)');
  assert.deepEqual(volumes, ['Local Volumes', '0', '0', '0B', '0B']);
  assert.deepEqual(cache!.slice(0, 4), ['Build Cache', '1', '0', '0B'], 'the RUN step\'s record, its layer held by df/built:1');

  const verbose = (await k(['system', 'df', '-v'])).stdout;
  assert.match(verbose, /^df\/built:1\s+[a-f0-9]{12}\s+.+\s+no$/m);
  assert.match(verbose, /^df\/base:1\s+[a-f0-9]{12}\s+.+\s+yes$/m);
  assert.match(verbose, /^Containers space usage:\nCONTAINER ID\s+NAMES\s+SIZE\s+CREATED\s+RUNNING\n[a-f0-9]{12}\s+c1\s+\S+\s+.+\s+yes$/m);
  assert.match(verbose, /^Build cache usage:\nCACHE ID\s+SIZE\s+CREATED\n[a-f0-9]{12}\s+0B\s/m);

  // The image gone, its step record is dangling: builder prune removes it (and containerd's GC what it held).
  await k(['rm', '-f', 'c1']);
  await k(['rmi', 'df/built:1']);
  const pruned = (await k(['builder', 'prune', '-f'])).stdout;
  assert.match(pruned, /^Deleted build cache objects:\n[a-f0-9]{64}\n\nTotal reclaimed space: \d[\d.]*[kM]?B\n$/);
  assert.deepEqual((await rows())[3], ['Build Cache', '0', '0', '0B', '0B']);
  assert.deepEqual((await rows())[1], ['Containers', '0', '0', '0B', '0B']);
  const rebuilt = await kilnOk(['--backend', 'containerd', '--address', ctd.address, '--namespace', 'kiln-df', 'build', '--progress=plain', '-t', 'df/built:1', ctx], { root: path.join(tmp, 'work') });
  assert.doesNotMatch(rebuilt.stderr, /CACHED/, 'the pruned step runs again');
  assert.equal((await k(['builder', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n', 'a record an image uses is not dangling');
});
