/**
 * A multi-platform build on the containerd backend: containerd keeps the OCI
 * index natively (the image record's target), `ctr` lists both platforms, and
 * the host's platform is unpacked so `ctr run` starts it at once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { kiln, testCache } from '../../testing/kiln.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

let ctd: TestContainerd;
let tmp: string;

before(async () => {
  [ctd, tmp] = await Promise.all([startContainerd(), tempDir('kiln-ctd-platforms-')]);
});
after(async () => {
  await ctd?.stop();
  await removeDir(tmp);
});

const onCtd = (args: string[]) => kiln(['--backend', 'containerd', '--address', ctd.address, ...args], { root: path.join(tmp, 'work') });

test('--platform linux/amd64,linux/arm64 into containerd: one index image, both platforms, the host one runs', async () => {
  for (const [arch, tar] of [['amd64', 'busybox-rootfs.tar'], ['arm64', 'busybox-arm64-rootfs.tar']]) {
    const imp = await onCtd(['import', '--platform', `linux/${arch}`, path.join(testCache(), tar!), `base/bb:${arch}`]);
    assert.equal(imp.code, 0, imp.stderr);
  }
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM --platform=$BUILDPLATFORM base/bb:amd64 AS build\nARG TARGETARCH\nRUN echo "for $TARGETARCH" > /for\nFROM base/bb:${TARGETARCH}\nCOPY --from=build /for /for\nCMD ["cat", "/for"]\n');
  const built = await onCtd(['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', 'ctd/multi:1', ctx]);
  assert.equal(built.code, 0, built.stderr);
  const digest = built.stdout.trim();

  const listed = await ctd.ctr(['images', 'ls']);
  const row = listed.split('\n').find((l) => l.startsWith('docker.io/ctd/multi:1 '));
  assert.ok(row, listed);
  assert.match(row, /application\/vnd\.oci\.image\.index\.v1\+json/);
  assert.ok(row.includes(digest), row);
  assert.match(row, /linux\/amd64,linux\/arm64/);

  const out = await ctd.ctr(['run', '--rm', 'docker.io/ctd/multi:1', `kiln-platforms-${process.pid}`], { timeoutMs: 60_000 });
  assert.equal(out, 'for amd64\n');

  // containerd's GC keeps every platform's blobs (the arm64 ones are not unpacked, only labelled), even once
  // the arm64 base that shared them is gone.
  await ctd.ctr(['images', 'rm', '--sync', 'docker.io/base/bb:arm64']);
  const index = JSON.parse(await ctd.ctr(['content', 'get', digest])) as { manifests: { digest: string; platform: { architecture: string } }[] };
  const arm = index.manifests.find((m) => m.platform.architecture === 'arm64')!;
  const manifest = JSON.parse(await ctd.ctr(['content', 'get', arm.digest])) as { config: { digest: string }; layers: { digest: string }[] };
  const stored = await ctd.ctr(['content', 'ls', '-q']);
  for (const d of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) assert.ok(stored.includes(d), `${d} was collected`);
});
