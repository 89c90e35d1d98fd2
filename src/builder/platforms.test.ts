/**
 * Multi-platform builds end to end: a `FROM --platform=$BUILDPLATFORM` stage
 * cross-"builds" for linux/amd64 and linux/arm64 (no emulation), the target
 * stage's RUN runs under QEMU for arm64, and the result is one OCI index,
 * pushed to a real docker-registry and read back with skopeo. Bases are
 * Debian's busybox-static for each architecture, made offline
 * (scripts/test-images.sh), joined into an index by a build of their own.
 * Needs qemu-user-static and binfmt_misc (kiln registers aarch64 with F).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
let tmp: string;
let root: string;
let reg: TestRegistry;

const dir = (name: string, files: Record<string, string>): string => {
  const d = path.join(tmp, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(d, f), text);
  return d;
};

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-platforms-'));
  root = path.join(tmp, 'root');
  reg = await startRegistry();
  await kilnOk(['import', '--platform', 'linux/amd64', path.join(testCache(), 'busybox-rootfs.tar'), 'kiln-test/bb:amd64'], { root });
  await kilnOk(['import', '--platform', 'linux/arm64', path.join(testCache(), 'busybox-arm64-rootfs.tar'), 'kiln-test/bb:arm64'], { root });
  // The automatic TARGETARCH in the global scope picks each platform's base: one index of both.
  await kilnOk(['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', 'kiln-test/busybox:multi', dir('base', { Dockerfile: 'ARG TARGETARCH\nFROM kiln-test/bb:${TARGETARCH}\n' })], { root });
});

after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const skopeo = (...args: string[]): string => execFileSync('skopeo', args, { encoding: 'utf8' });

test('--platform linux/amd64,linux/arm64 --push: a cross-building stage, RUN under QEMU, one index in the registry', async () => {
  const ctx = dir('app', {
    Dockerfile: [
      'FROM --platform=$BUILDPLATFORM kiln-test/busybox:multi AS build',
      'ARG TARGETPLATFORM TARGETOS TARGETARCH TARGETVARIANT BUILDPLATFORM BUILDOS BUILDARCH',
      'RUN echo "$BUILDPLATFORM $BUILDOS $BUILDARCH -> $TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] on $(uname -m)" > /out-$TARGETARCH',
      'FROM kiln-test/busybox:multi',
      'ARG TARGETARCH',
      'COPY --from=build /out-$TARGETARCH /built',
      'RUN uname -m > /ran',
      'CMD ["uname", "-m"]',
      '',
    ].join('\n'),
  });
  const name = `${reg.host}/team/multi:1`;
  const meta = path.join(tmp, 'meta.json');
  const built = await kilnOk(['build', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', name, '--push', '--metadata-file', meta, ctx], { root });
  assert.match(built.stderr, /\[linux\/arm64 stage-1 3\/3\] RUN uname -m > \/ran/);
  assert.match(built.stderr, /\[linux\/amd64 build 2\/2\] RUN/);

  const raw = skopeo('inspect', '--raw', '--tls-verify=false', `docker://${name}`);
  const index = JSON.parse(raw) as { mediaType: string; manifests: { digest: string; platform: { os: string; architecture: string; variant?: string } }[] };
  assert.equal(index.mediaType, INDEX);
  assert.deepEqual(index.manifests.map((m) => m.platform), [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }]);
  const { createHash } = await import('node:crypto');
  assert.equal(JSON.parse(readFileSync(meta, 'utf8'))['containerimage.digest'], `sha256:${createHash('sha256').update(raw).digest('hex')}`);

  const arm = JSON.parse(skopeo('inspect', '--tls-verify=false', '--override-os', 'linux', '--override-arch', 'arm64', `docker://${name}`)) as { Architecture: string; Os: string; Layers: string[] };
  assert.deepEqual([arm.Os, arm.Architecture], ['linux', 'arm64']);
  const armManifest = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/team/multi@${index.manifests[1]!.digest}`)) as { layers: { digest: string }[] };
  assert.deepEqual(arm.Layers, armManifest.layers.map((l) => l.digest));

  // Each platform's layers hold what that platform's build produced.
  for (const [arch, machine] of [['amd64', 'x86_64'], ['arm64', 'aarch64']] as const) {
    const out = path.join(tmp, `copy-${arch}`);
    skopeo('copy', '--src-tls-verify=false', '--override-arch', arch, `docker://${name}`, `dir:${out}`);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { layers: { digest: string }[] };
    const [copied, ran] = manifest.layers.slice(-2).map((l) => path.join(out, l.digest.slice(7)));
    assert.equal(execFileSync('tar', ['-xzOf', ran!, 'ran'], { encoding: 'utf8' }), `${machine}\n`);
    assert.equal(execFileSync('tar', ['-xzOf', copied!, 'built'], { encoding: 'utf8' }), `linux/amd64 linux amd64 -> linux/${arch} linux ${arch} [] on x86_64\n`);
    assert.ok(readdirSync(out).length > 3);
  }

  // The store: one line for the name; run picks the host's platform, --platform the other (under QEMU).
  const images = (await kilnOk(['images', name], { root })).stdout.trim().split('\n');
  assert.equal(images.length, 2, images.join('\n'));
  assert.equal((await kilnOk(['run', '--rm', name], { root })).stdout, 'x86_64\n');
  assert.equal((await kilnOk(['run', '--rm', '--platform', 'linux/arm64', name], { root })).stdout, 'aarch64\n');
  const [inspected] = JSON.parse((await kilnOk(['inspect', name], { root })).stdout) as [
    { Architecture: string; Manifest: { Digest: string }; Index: { MediaType: string; Digest: string }; Platforms: { Platform: string; Digest: string }[] },
  ];
  assert.equal(inspected.Architecture, 'amd64');
  assert.equal(inspected.Index.MediaType, INDEX);
  assert.equal(inspected.Index.Digest, built.stdout.trim());
  assert.deepEqual(inspected.Platforms.map((p) => p.Platform), ['linux/amd64', 'linux/arm64']);
  assert.equal(inspected.Manifest.Digest, inspected.Platforms[0]!.Digest);

  // Pulled elsewhere: the index is kept, and the platform asked for is the one run.
  const fresh = path.join(tmp, 'fresh');
  await kilnOk(['pull', '-q', '--platform', 'linux/arm64', name], { root: fresh });
  assert.equal((await kilnOk(['run', '--rm', name, 'cat', '/built'], { root: fresh })).stdout, 'linux/amd64 linux amd64 -> linux/arm64 linux arm64 [] on x86_64\n');
  const [pulled] = JSON.parse((await kilnOk(['inspect', name], { root: fresh })).stdout) as [{ Architecture: string }];
  assert.equal(pulled.Architecture, 'arm64');
  // A docker archive of it holds that platform (the one stored).
  const docker = path.join(tmp, 'arm64-docker.tar');
  await kilnOk(['save', '-o', docker, name], { root: fresh });
  const [entry] = JSON.parse(execFileSync('tar', ['-xOf', docker, 'manifest.json'], { encoding: 'utf8' })) as [{ Config: string }];
  assert.equal((JSON.parse(execFileSync('tar', ['-xOf', docker, entry.Config], { encoding: 'utf8' })) as { architecture: string }).architecture, 'arm64');

  // push --platform: that platform's manifest alone, under the tag.
  const single = `${reg.host}/team/multi:arm64`;
  await kilnOk(['tag', name, single], { root });
  await kilnOk(['push', '-q', '--platform', 'linux/arm64', single], { root });
  const one = JSON.parse(skopeo('inspect', '--raw', '--tls-verify=false', `docker://${single}`)) as { mediaType: string; config: { digest: string } };
  assert.equal(one.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  const cfg = JSON.parse(skopeo('inspect', '--config', '--tls-verify=false', `docker://${single}`)) as { architecture: string; os: string };
  assert.deepEqual([cfg.os, cfg.architecture], ['linux', 'arm64']);

  // save as OCI: the whole index.
  const archive = path.join(tmp, 'multi.tar');
  await kilnOk(['save', '--format', 'oci', '-o', archive, name], { root });
  const layout = path.join(tmp, 'layout');
  mkdirSync(layout);
  execFileSync('tar', ['-xf', archive, '-C', layout]);
  const top = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { mediaType: string }[] };
  assert.equal(top.manifests[0]!.mediaType, INDEX);
});

test('--platform linux/arm64 alone: an arm64 image (a manifest), its RUN under QEMU', async () => {
  const ctx = dir('single', { Dockerfile: 'FROM kiln-test/busybox:multi\nRUN uname -m > /ran\n' });
  await kilnOk(['build', '-q', '--platform', 'linux/arm64', '-t', 'single:arm64', ctx], { root });
  const [img] = JSON.parse((await kilnOk(['inspect', 'single:arm64'], { root })).stdout) as [{ Architecture: string; Os: string }];
  assert.deepEqual([img.Os, img.Architecture], ['linux', 'arm64']);
  assert.equal((await kilnOk(['run', '--rm', 'single:arm64', 'cat', '/ran'], { root })).stdout, 'aarch64\n');
});

test('errors: an unknown platform, a base image without the platform, no binfmt_misc: one line each', async () => {
  const ctx = dir('errs', { Dockerfile: 'FROM kiln-test/busybox:multi\nRUN true\n' });
  const oneLine = (stderr: string) => {
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    return lines[0]!;
  };
  const unknown = await kiln(['build', '-q', '--platform', 'linux/amd64,linux/sparc99', ctx], { root });
  assert.equal(unknown.code, 1);
  assert.match(oneLine(unknown.stderr), /^kiln: --platform linux\/sparc99: unknown architecture sparc99 \(use one of amd64, arm64/);

  const noRun = dir('norun', { Dockerfile: 'FROM kiln-test/busybox:multi\nCOPY Dockerfile /\n' });
  const absent = await kiln(['build', '-q', '--platform', 'linux/amd64,linux/riscv64', noRun], { root });
  assert.equal(absent.code, 1);
  assert.match(oneLine(absent.stderr), /^kiln: Dockerfile:1: image kiln-test\/busybox:multi has no manifest for platform linux\/riscv64; it has linux\/amd64, linux\/arm64 /);
  const single = dir('amd64only', { Dockerfile: 'FROM kiln-test/bb:amd64\nCOPY Dockerfile /\n' });
  const notThere = await kiln(['build', '-q', '--platform', 'linux/arm64', single], { root });
  assert.match(oneLine(notThere.stderr), /^kiln: Dockerfile:1: image kiln-test\/bb:amd64 has no manifest for platform linux\/arm64; it has linux\/amd64 /);

  // No binfmt_misc (KILN_BINFMT_DIR names where it would be mounted): the build stops before any step.
  const env = { KILN_BINFMT_DIR: path.join(tmp, 'no-such-dir', 'binfmt_misc') };
  const noBinfmt = await kiln(['build', '--no-cache', '--platform', 'linux/arm64', ctx], { root, env });
  assert.equal(noBinfmt.code, 1);
  assert.match(oneLine(noBinfmt.stderr), /^kiln: running linux\/arm64 binaries \(QEMU user emulation\): binfmt_misc is not mounted at .*no-such-dir\/binfmt_misc and mounting it failed .*\(run kiln system binfmt --install as root on the host\)$/);
  const status = await kilnOk(['system', 'binfmt', 'linux/arm64', 'linux/amd64'], { root, env });
  assert.equal(status.stdout, 'linux/arm64      not registered\nlinux/amd64      native\n');
  const ready = await kilnOk(['system', 'binfmt', 'linux/arm64'], { root });
  assert.match(ready.stdout, /^linux\/arm64 +emulated \(registered, F flag\) +\/usr\/libexec\/qemu-binfmt\/aarch64-binfmt-P\n$/);
});
