/**
 * `--cache-to` of a multi-platform build: one BuildKit-format cache holding
 * every platform's steps (registry and local), and `--cache-from` of it on a
 * fresh store answers every step of every platform: no RUN runs (not the
 * cross-building stage, not the arm64 RUN under QEMU) and the index is the
 * same. Bases: Debian's busybox-static per architecture, pushed as an index.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kilnOk, testCache } from '../testing/kiln.js';

let tmp: string;
let reg: TestRegistry;
let ctx: string;
let base: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cache-platforms-'));
  reg = await startRegistry();
  const root = path.join(tmp, 'root-base');
  base = `${reg.host}/base/busybox:multi`;
  await kilnOk(['import', '--platform', 'linux/amd64', path.join(testCache(), 'busybox-rootfs.tar'), 'kiln-test/bb:amd64'], { root });
  await kilnOk(['import', '--platform', 'linux/arm64', path.join(testCache(), 'busybox-arm64-rootfs.tar'), 'kiln-test/bb:arm64'], { root });
  const baseCtx = path.join(tmp, 'base');
  mkdirSync(baseCtx);
  writeFileSync(path.join(baseCtx, 'Dockerfile'), 'ARG TARGETARCH\nFROM kiln-test/bb:${TARGETARCH}\n');
  await kilnOk(['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', base, '--push', baseCtx], { root });
  ctx = path.join(tmp, 'app');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM --platform=$BUILDPLATFORM ${base} AS build`,
      'ARG TARGETARCH',
      'RUN echo "built for $TARGETARCH" > /out && date +%s%N > /stamp-build',
      `FROM ${base}`,
      'COPY --from=build /out /built',
      'COPY app.txt /app.txt',
      'RUN uname -m > /ran && date +%s%N > /stamp',
      'CMD ["cat", "/ran", "/built", "/app.txt"]',
      '',
    ].join('\n'),
  );
  writeFileSync(path.join(ctx, 'app.txt'), 'app\n');
});

after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The RUN steps a plain progress log shows running (a started RUN that no `#N CACHED` answers; the platforms' lines interleave). */
const ranRuns = (stderr: string): string[] => {
  const lines = stderr.split('\n');
  return lines.flatMap((l) => {
    const m = /^(#\d+) \[(.*)\] RUN /.exec(l);
    return m && !lines.includes(`${m[1]} CACHED`) ? [`[${m[2]}]`] : [];
  });
};
const cachedCount = (stderr: string) => stderr.split('\n').filter((l) => /^#\d+ CACHED$/.test(l)).length;

test('--platform A,B --cache-to registry and local: one cache of both platforms; a fresh store with --cache-from runs no RUN, same index', async () => {
  const cacheRef = `${reg.host}/cache/multi:bc`;
  const cacheDir = path.join(tmp, 'cache-local');
  const built = await kilnOk(
    ['build', '--progress=plain', '--platform', 'linux/amd64,linux/arm64', '-t', `${reg.host}/app/multi:1`, '--push',
      '--cache-to', `type=registry,ref=${cacheRef},mode=max`, '--cache-to', `type=local,dest=${cacheDir},mode=max`, ctx],
    { root: path.join(tmp, 'rootA') },
  );
  const id = built.stdout.trim();
  assert.deepEqual(ranRuns(built.stderr).sort(), ['linux/amd64 build 2/2', 'linux/amd64 stage-1 4/4', 'linux/arm64 build 2/2', 'linux/arm64 stage-1 4/4'].map((s) => `[${s}]`).sort());
  assert.doesNotMatch(built.stderr, /not exported/);
  // Node's listener warning once came between a RUN and its CACHED line (11 layer downloads on one build signal).
  assert.doesNotMatch(built.stderr, /Warning/);
  assert.match(built.stderr, /exporting cache to .*cache\/multi:bc \(mode=max\)\n#\d+ DONE/);

  // One cache config: the records of both platforms (each platform's base record, both targets' RUNs).
  const res = await fetch(`${reg.url}/v2/cache/multi/manifests/bc`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const manifest = (await res.json()) as { config: { mediaType: string; digest: string }; layers: { digest: string }[] };
  assert.equal(manifest.config.mediaType, 'application/vnd.buildkit.cacheconfig.v0');
  const config = (await (await fetch(`${reg.url}/v2/cache/multi/blobs/${manifest.config.digest}`)).json()) as { records: { digest: string; inputs?: unknown; layers?: unknown }[]; layers: { blob: string }[] };
  // kiln's base records carry the base's layers; BuildKit's image source records (buildkit-keys/export.ts) none.
  const roots = config.records.filter((r) => r.inputs === undefined && r.layers !== undefined);
  assert.equal(roots.length, 2, 'one base record per platform (the cross-building stage shares the build platform\'s)');
  assert.equal(
    config.records.filter((r) => r.inputs === undefined && r.layers === undefined).length,
    3,
    "and BuildKit's records without a result: one image source per platform, app.txt's content record (one for both)",
  );
  // No record twice; one digest may stand twice with other inputs (a file op has no platform: COPY --from=build on each platform's base).
  assert.equal(new Set(config.records.map((r) => JSON.stringify([r.digest, r.inputs ?? []]))).size, config.records.length);
  const index = JSON.parse(readFileSync(path.join(cacheDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const localManifest = JSON.parse(readFileSync(path.join(cacheDir, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { config: { digest: string } };
  assert.equal(localManifest.config.digest, manifest.config.digest, 'the local cache holds the same config');

  for (const from of [`type=registry,ref=${cacheRef}`, `type=local,src=${cacheDir}`]) {
    const root = path.join(tmp, `fresh-${from.slice(5, 10)}`);
    const again = await kilnOk(['build', '--progress=plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'app:again', '--cache-from', from, ctx], { root });
    assert.deepEqual(ranRuns(again.stderr), [], `${from}: no RUN runs`);
    assert.doesNotMatch(again.stderr, /Warning/, `${from}: no warning of Node's among the steps`);
    assert.equal(cachedCount(again.stderr), 8, `${from}: every step of both platforms (build: RUN; stage-1: COPY COPY RUN)`);
    assert.equal(again.stdout.trim(), id, `${from}: the same index`);
    const arm = await kilnOk(['run', '--rm', '--platform', 'linux/arm64', 'app:again'], { root });
    assert.equal(arm.stdout, 'aarch64\nbuilt for arm64\napp\n');
  }
});

test('--platform A,B --cache-to type=inline: each platform\'s config carries its records; --cache-from the pushed index answers every step of the image on a fresh store', async () => {
  const name = `${reg.host}/app/multi:inline`;
  const built = await kilnOk(['build', '-q', '--platform', 'linux/amd64,linux/arm64', '-t', name, '--push', '--cache-to', 'type=inline', ctx], { root: path.join(tmp, 'rootInline') });
  const index = (await (await fetch(`${reg.url}/v2/app/multi/manifests/inline`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json' } })).json()) as { manifests: { digest: string }[] };
  assert.equal(index.manifests.length, 2);
  const configs: string[] = [];
  for (const m of index.manifests) {
    const manifest = (await (await fetch(`${reg.url}/v2/app/multi/manifests/${m.digest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { config: { digest: string } };
    configs.push(manifest.config.digest);
    const config = (await (await fetch(`${reg.url}/v2/app/multi/blobs/${manifest.config.digest}`)).json()) as Record<string, unknown>;
    assert.equal(typeof config['moby.buildkit.cache.v0'], 'string', `${m.digest}: an inline cache`);
  }
  const archive = path.join(tmp, 'fresh-inline.tar');
  const again = await kilnOk(['build', '--progress=plain', '--platform', 'linux/amd64,linux/arm64', '--cache-from', name, '--cache-to', 'type=inline', '-o', `type=oci,dest=${archive}`, ctx], { root: path.join(tmp, 'fresh-inline') });
  // Inline is mode=min (as with BuildKit): the cross-building stage is not in the image's chain and runs; the target's RUN does not.
  assert.deepEqual(ranRuns(again.stderr), ['[linux/amd64 build 2/2]', '[linux/arm64 build 2/2]'], again.stderr);
  assert.doesNotMatch(again.stderr, /WARNING/);
  assert.equal(cachedCount(again.stderr), 6, 'COPY COPY RUN of each platform\'s target stage');
  // The same images (configs); the manifests differ, as the layers come as the registry has them (gzip).
  const file = (n: string) => execFileSync('tar', ['-xOf', archive, n]);
  const top = JSON.parse(file('index.json').toString()) as { manifests: { digest: string }[] };
  const freshIndex = JSON.parse(file(`blobs/sha256/${top.manifests[0]!.digest.slice(7)}`).toString()) as { manifests: { digest: string }[] };
  const freshConfigs = freshIndex.manifests.map((m) => (JSON.parse(file(`blobs/sha256/${m.digest.slice(7)}`).toString()) as { config: { digest: string } }).config.digest);
  assert.deepEqual(freshConfigs, configs, 'the same image per platform');
  assert.ok(built.stdout.trim().startsWith('sha256:'));
});
