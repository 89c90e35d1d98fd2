/**
 * `kiln build` on the containerd backend: the image lands in containerd's
 * content store as a CRI-managed image record, already unpacked, so
 * `ctr run` (and so a kubelet) can use it with no registry in between.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kiln, kilnOk, testCache } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let ctd: TestContainerd;
let tmp: string;

before(async () => {
  [ctd, tmp] = await Promise.all([startContainerd(), tempDir('kiln-ctd-build-')]);
});
after(async () => {
  await ctd?.stop();
  await removeDir(tmp);
});

const onCtd = (args: string[]) => kiln(['--backend', 'containerd', '--address', ctd.address, ...args], { root: path.join(tmp, 'work') });

test('a Dockerfile built into containerd is listed by ctr and runs under ctr run; a second build is all cache', async () => {
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'msg.txt'), 'built straight into containerd\n');
  // The CMD stays a moment after its output: `ctr run` can lose the output of a process that exits right after printing
  // (containerd's IO copy races the exit; seen in CI here and in build-snapshots.test), which is not what this test is about.
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM base/busybox:1\nCOPY msg.txt /msg.txt\nRUN echo "from RUN" >> /msg.txt\nCMD ["sh", "-c", "cat /msg.txt && sleep 0.5"]\n');
  const imp = await onCtd(['import', busybox, 'base/busybox:1']);
  assert.equal(imp.code, 0, imp.stderr);

  const first = await onCtd(['build', '--progress=plain', '-t', 'ctd/hello:1', ctx]);
  assert.equal(first.code, 0, first.stderr);
  const id = first.stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);

  const listed = await ctd.ctr(['images', 'ls']);
  const row = listed.split('\n').find((l) => l.startsWith('docker.io/ctd/hello:1 '));
  assert.ok(row, `ctr lists the built image:\n${listed}`);
  assert.match(row, /io\.cri-containerd\.image=managed/);

  // containerd unpacks locally: the layers kiln built for it are not compressed.
  const [info] = JSON.parse((await onCtd(['inspect', 'ctd/hello:1'])).stdout) as [{ Manifest: { Digest: string } }];
  const manifest = JSON.parse(await ctd.ctr(['content', 'get', info.Manifest.Digest])) as { layers: { mediaType: string }[] };
  assert.equal(manifest.layers.at(-1)!.mediaType, 'application/vnd.oci.image.layer.v1.tar');

  const out = await ctd.ctr(['run', '--rm', 'docker.io/ctd/hello:1', `kiln-build-${process.pid}`], { timeoutMs: 60_000 });
  assert.equal(out, 'built straight into containerd\nfrom RUN\n');

  const again = await onCtd(['build', '--progress=plain', '-t', 'ctd/hello:1', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), id);
  assert.equal((again.stderr.match(/CACHED/g) ?? []).length, 2);

  const removed = await onCtd(['rmi', 'ctd/hello:1']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(!(await ctd.ctr(['images', 'ls'])).includes('docker.io/ctd/hello:1 '));
});

test('a build on containerd that fails in RUN reports the step and leaves no image', async () => {
  const ctx = path.join(tmp, 'bad');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM base/busybox:1\nRUN exit 7\n');
  await kilnOk(['--backend', 'containerd', '--address', ctd.address, 'import', busybox, 'base/busybox:1'], { root: path.join(tmp, 'work') });
  const r = await onCtd(['build', '-t', 'ctd/bad:1', ctx]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Dockerfile:2/);
  assert.match(r.stderr, /7/);
  assert.ok(!(await ctd.ctr(['images', 'ls'])).includes('ctd/bad'));
});
