/**
 * `kiln build --cache-to/--cache-from type=registry`: a build on one store
 * pushes its step cache to a real docker-registry; builds on fresh stores
 * (the base pulled from that registry) reuse it step by step, without
 * running anything, and get the same image.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { startRegistry, type TestRegistry } from '../testing/registry.js';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

let reg: TestRegistry;
let tmp: string;
let base: string;
let cacheRef: string;
let ctxA: string;
let idA: string;

const LAYER_STEPS = 5;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-cache-registry-'));
  reg = await startRegistry();
  base = `${reg.host}/base/busybox:1`;
  cacheRef = `${reg.host}/cache/app:buildcache`;
  const rootA = path.join(tmp, 'rootA');
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), base], { root: rootA });
  await kilnOk(['push', base], { root: rootA });
  ctxA = path.join(tmp, 'ctxA');
  mkdirSync(ctxA);
  writeFileSync(
    path.join(ctxA, 'Dockerfile'),
    `FROM ${base}
ENV X=1
WORKDIR /app
COPY a.txt ./
RUN cat a.txt > copy.txt && date +%s%N > stamp1
COPY b.txt ./
RUN cat b.txt >> copy.txt && date +%s%N > stamp2
CMD ["cat", "/app/copy.txt"]
`,
  );
  writeFileSync(path.join(ctxA, 'a.txt'), 'a\n');
  writeFileSync(path.join(ctxA, 'b.txt'), 'b\n');
});

after(async () => {
  await reg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const blobFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((e) => (e.isFile() && e.name === 'data' ? [path.join(e.parentPath ?? e.path, e.name)] : []));
const cachedCount = (stderr: string) => stderr.split('\n').filter((l) => /^#\d+ CACHED$/.test(l)).length;
const layers = async (root: string, ref: string) => (JSON.parse((await kilnOk(['inspect', ref], { root })).stdout) as { RootFS: { Layers: string[] } }[])[0]!.RootFS.Layers;

test('--cache-to pushes the step cache; a fresh store with --cache-from reuses every step and gets the same image', async () => {
  const rootA = path.join(tmp, 'rootA');
  const outA = path.join(tmp, 'outA');
  const a = await kilnOk(['build', '-t', 'app:a', '--progress=plain', '--cache-to', `type=registry,ref=${cacheRef},mode=max`, '-o', `type=local,dest=${outA}`, ctxA], { root: rootA });
  idA = a.stdout.trim();
  assert.equal(cachedCount(a.stderr), 0);
  assert.match(a.stderr, new RegExp(`exporting cache to ${cacheRef.replace(/[.]/g, '\\.')} \\(mode=max\\)\\n#\\d+ DONE`));

  // The cache manifest: BuildKit's cache config; a root record for the base, then each step linked to the one before;
  // the layers of the chain (the base's, then the five step layers) listed, each with its diff ID.
  const res = await fetch(`${reg.url}/v2/cache/app/manifests/buildcache`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { config: { mediaType: string; digest: string }; layers: { digest: string; annotations: Record<string, string> }[] };
  assert.equal(manifest.config.mediaType, 'application/vnd.buildkit.cacheconfig.v0');
  type Rec = { digest: string; inputs?: { link: number }[][]; layers?: { layer: number; createdAt: string }[] };
  const config = (await (await fetch(`${reg.url}/v2/cache/app/blobs/${manifest.config.digest}`)).json()) as { layers: { blob: string; parent: number }[]; records: Rec[] };
  // kiln's records, then BuildKit's for the same chain (buildkit-keys/export.ts): the base's root record, WORKDIR,
  // COPY with its content's root record, RUN, COPY with its content's root record, RUN.
  assert.equal(config.records.length, 8 + 8);
  const kilnRecords = config.records.slice(0, 8);
  assert.equal(kilnRecords.length, 8, 'the base, then ENV WORKDIR COPY RUN COPY RUN CMD');
  assert.equal(kilnRecords[0]!.inputs, undefined);
  kilnRecords.slice(1).forEach((r, i) => assert.deepEqual(r.inputs, [[{ link: i }]]));
  const layersA = await layers(rootA, 'app:a');
  assert.equal(config.layers.length, layersA.length);
  assert.deepEqual(config.layers.map((l) => l.parent), layersA.map((_, i) => i - 1));
  assert.deepEqual(manifest.layers.map((l) => l.annotations['containerd.io/uncompressed']), layersA);
  const newLayers = kilnRecords.filter((r, i) => i > 0 && r.layers?.[0]?.layer !== kilnRecords[i - 1]!.layers?.[0]?.layer);
  assert.equal(newLayers.length, LAYER_STEPS);

  // A fresh store, the same context elsewhere on disk: everything comes from the registry.
  const ctxB = path.join(tmp, 'elsewhere', 'ctxB');
  cpSync(ctxA, ctxB, { recursive: true });
  const rootB = path.join(tmp, 'rootB');
  const outB = path.join(tmp, 'outB');
  const b = await kilnOk(['build', '-t', 'app:b', '--progress=plain', '--cache-from', `type=registry,ref=${cacheRef}`, '-o', `type=local,dest=${outB}`, ctxB], { root: rootB });
  assert.equal(b.stdout.trim(), idA, 'the same image ID');
  assert.equal(cachedCount(b.stderr), LAYER_STEPS, b.stderr);
  assert.doesNotMatch(b.stderr, /WARNING/);
  assert.deepEqual(await layers(rootB, 'app:b'), layersA);
  for (const f of ['app/copy.txt', 'app/stamp1', 'app/stamp2']) assert.equal(readFileSync(path.join(outB, f), 'utf8'), readFileSync(path.join(outA, f), 'utf8'), `${f}: the RUN did not run again`);
  const run = await kilnOk(['run', '--rm', 'app:b'], { root: rootB });
  assert.equal(run.stdout, 'a\nb\n');
});

test('after a change, only the steps from the changed COPY on run again', async () => {
  const ctxC = path.join(tmp, 'ctxC');
  cpSync(ctxA, ctxC, { recursive: true });
  writeFileSync(path.join(ctxC, 'b.txt'), 'changed\n');
  const rootC = path.join(tmp, 'rootC');
  const outC = path.join(tmp, 'outC');
  // A bare ref is accepted as Docker does.
  const c = await kilnOk(['build', '-t', 'app:c', '--progress=plain', '--cache-from', cacheRef, '-o', `type=local,dest=${outC}`, ctxC], { root: rootC });
  assert.notEqual(c.stdout.trim(), idA);
  assert.equal(cachedCount(c.stderr), 3, 'WORKDIR, COPY a.txt, the first RUN');
  assert.match(c.stderr, /#\d+ \[4\/6\] RUN cat a\.txt[^\n]*\n#\d+ CACHED/);
  assert.match(c.stderr, /#\d+ \[5\/6\] COPY b\.txt \.\/\n#\d+ DONE/);
  assert.match(c.stderr, /#\d+ \[6\/6\] RUN cat b\.txt[^\n]*\n#\d+ DONE/);
  assert.equal(readFileSync(path.join(outC, 'app/stamp1'), 'utf8'), readFileSync(path.join(tmp, 'outA', 'app/stamp1'), 'utf8'));
  assert.notEqual(readFileSync(path.join(outC, 'app/stamp2'), 'utf8'), readFileSync(path.join(tmp, 'outA', 'app/stamp2'), 'utf8'));
  assert.equal(readFileSync(path.join(outC, 'app/copy.txt'), 'utf8'), 'a\nchanged\n');
});

test('mode=min exports the target stage and the stages it is built FROM; mode=max every stage', async () => {
  const ctx = path.join(tmp, 'ctxMulti');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    `FROM ${base} AS tools
RUN echo tool > /tool
FROM ${base} AS common
RUN echo common > /common
FROM common AS final
COPY --from=tools /tool /tool
LABEL stage=final
`,
  );
  const root = path.join(tmp, 'rootMulti');
  const stepsOf = async (tag: string) => {
    const m = (await (await fetch(`${reg.url}/v2/cache/multi/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { config: { digest: string } };
    // Step records are those linked to a parent (the base's record has no inputs).
    return ((await (await fetch(`${reg.url}/v2/cache/multi/blobs/${m.config.digest}`)).json()) as { records: { inputs?: unknown }[] }).records.filter((r) => r.inputs).length;
  };
  await kilnOk(['build', '--cache-to', `type=registry,ref=${reg.host}/cache/multi:min`, '--cache-to', `type=registry,ref=${reg.host}/cache/multi:max,mode=max`, ctx], { root });
  // kiln's, and BuildKit's records (buildkit-keys/export.ts): the RUNs, and COPY --from when the stage it links is exported.
  assert.equal(await stepsOf('min'), 3 + 1, 'RUN of common, COPY --from, LABEL; BuildKit\'s RUN of common (tools is not exported)');
  assert.equal(await stepsOf('max'), 4 + 3, 'and the RUN of tools; BuildKit\'s both RUNs and COPY --from linking the RUN of tools');
  // From the max cache a fresh store builds all of it without running anything.
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `${reg.host}/cache/multi:max`, ctx], { root: path.join(tmp, 'rootMulti2') });
  assert.equal(cachedCount(r.stderr), 3, r.stderr);
});

test('a secret used by a RUN is in no blob of the registry cache', async () => {
  const secret = `s3cr3t-${process.pid}-cache`;
  const ctx = path.join(tmp, 'ctxSecret');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${base}\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo used > /used\n`);
  const src = path.join(tmp, 'secret.txt');
  writeFileSync(src, secret);
  const before = new Set(blobFiles(reg.dir));
  await kilnOk(['build', '--secret', `id=tok,src=${src}`, '--cache-to', `type=registry,ref=${reg.host}/cache/secret:c`, ctx], { root: path.join(tmp, 'rootSecret') });
  const written = blobFiles(reg.dir).filter((f) => !before.has(f));
  assert.ok(written.length >= 3, 'a layer, the cache config and the manifest were pushed');
  for (const f of written) {
    const bytes = readFileSync(f);
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('latin1');
    assert.ok(!text.includes(secret), `${f} holds the secret`);
  }
});

test('a --cache-from ref that does not exist is one warning and the build goes on', async () => {
  const root = path.join(tmp, 'rootD');
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=registry,ref=${reg.host}/cache/none:x`, ctxA], { root });
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('WARNING'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0]!, new RegExp(`--cache-from ${reg.host}/cache/none:x: .*not found.*building without it`));
  assert.equal(cachedCount(r.stderr), 0);
});

test('cache specs: unknown types and modes are one clear error', async () => {
  const root = path.join(tmp, 'rootE');
  for (const [args, msg] of [
    [['--cache-to', 'type=gha,scope=x'], /--cache-to type=gha,scope=x: cache type gha is not supported/],
    [['--cache-to', 'type=local'], /dest= is required/],
    [['--cache-to', `type=registry,ref=${cacheRef},mode=all`], /mode=all: use min or max/],
    [['--cache-from', 'type=registry'], /ref= is required/],
  ] as const) {
    const r = await kiln(['build', ...args, ctxA], { root });
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim().split('\n')[0]!, msg);
  }
});
