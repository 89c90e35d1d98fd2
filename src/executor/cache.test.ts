/**
 * `kiln executor --cache --cache-repo` (kaniko's remote layer cache, on the builder's registry cache)
 * against a real registry: a second run on a fresh state dir takes every step from the registry and runs
 * no RUN (the marker a RUN writes is the first run's), gives the same digest; a changed build arg runs
 * only the steps after it; `--cache-ttl` shorter than the entries' age runs the steps again; bad values are one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kiln } from '../testing/kiln.js';
import type { TestRegistry } from '../testing/index.js';
import type { BuildFixture } from '../builder/test-support.js';
import { cacheRef } from './cache.js';
import { executorBase, readLayout, unpackImage, type ExecutorBase } from './test-support.js';

let fx: BuildFixture;
let reg: TestRegistry;
let base: string;
let env: ExecutorBase | undefined;
before(async () => {
  ({ fx, reg, base } = env = await executorBase('kiln-exec-cache-'));
});
after(() => env?.stop());

let runs = 0;
/** One executor run on a fresh root and state dir (a new pod); answers its output and the image's /stamp and /second. */
async function run(ctx: string, extra: string[]) {
  const n = ++runs;
  const layout = path.join(fx.tmp, `layout${n}`);
  const r = await kiln(['executor', '--context', `dir://${ctx}`, '--root', path.join(fx.tmp, `root${n}`), '--state-dir', path.join(fx.tmp, `state${n}`),
    '--oci-layout-path', layout, ...extra], { root: fx.root });
  assert.equal(r.code, 0, r.stderr);
  const fs = path.join(fx.tmp, `fs${n}`);
  await unpackImage(readLayout(layout), fs);
  const read = (f: string) => readFileSync(path.join(fs, f), 'utf8');
  return { ...r, stamp: read('stamp'), second: read('second') };
}

test('executor --cache: a fresh state dir pulls every step from the cache repo and runs no RUN; --cache-ttl expires entries', async () => {
  const dockerfile = (arg: string) => `FROM ${base}
RUN date +%s%N > /stamp && echo ran-first-$((6*7))
COPY hello.txt /hello.txt
ARG SECOND=one
RUN echo "$SECOND $(date +%s%N)" > /second && echo ran-second-$((6*7))
ENV DONE=${arg}
`;
  const ctx = fx.context({ 'hello.txt': 'hi\n', Dockerfile: dockerfile('yes') });
  const cacheRepo = `${reg.host}/team/cache`;
  const dest = `${reg.host}/team/app:1`;
  const first = await run(ctx, ['-d', dest, '--cache', '--cache-repo', cacheRepo]);
  assert.match(first.stderr, /ran-first-42/);
  assert.match(first.stderr, /ran-second-42/);
  assert.match(first.stderr, /WARNING: --cache-repo 127\.0\.0\.1:\d+\/team\/cache:buildcache: .*not found; building without it/, 'an empty cache repo: one warning naming the flag');
  // The cache root went up under REPO:buildcache, with the steps' layers.
  const res = await fetch(`http://${reg.host}/v2/team/cache/manifests/buildcache`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as { config: { mediaType: string }; layers: unknown[] };
  assert.equal(manifest.config.mediaType, 'application/vnd.buildkit.cacheconfig.v0');
  assert.equal(manifest.layers.length, 1 + 3, 'the base layer and the three steps with layers');

  // A new pod: nothing local. Every step comes from the registry, no RUN runs, the same image.
  const second = await run(ctx, ['-d', dest, '--cache=true', '--cache-repo', cacheRepo]);
  assert.doesNotMatch(second.stderr, /ran-(first|second)-42/);
  assert.equal(second.stamp, first.stamp);
  assert.equal(second.second, first.second);
  assert.equal(second.stdout.trim(), first.stdout.trim());
  assert.equal((second.stderr.match(/CACHED/g) ?? []).length, 3, second.stderr);

  // A changed build arg misses the RUN after its ARG only: the first RUN and the COPY still come from the cache.
  const third = await run(ctx, ['--no-push', '--cache', '--cache-repo', cacheRepo, '--build-arg', 'SECOND=two']);
  assert.doesNotMatch(third.stderr, /ran-first-42/);
  assert.match(third.stderr, /ran-second-42/);
  assert.equal(third.stamp, first.stamp);
  assert.match(third.second, /^two /);

  // Entries older than the TTL are ignored: everything runs again.
  await new Promise((r) => setTimeout(r, 50));
  const expired = await run(ctx, ['--no-push', '--cache', '--cache-repo', cacheRepo, '--cache-ttl', '10ms']);
  assert.match(expired.stderr, /ran-first-42/);
  assert.notEqual(expired.stamp, first.stamp);

  // Without --cache the registry is not asked.
  const off = await run(ctx, ['--no-push', '--cache-repo', cacheRepo]);
  assert.match(off.stderr, /ran-first-42/);
});

test('executor --cache: the default cache repo is the destination + /cache; bad flags are one line', async () => {
  assert.equal(cacheRef({}, [`${reg.host}/team/app:1`]), `${reg.host}/team/app/cache:buildcache`);
  assert.equal(cacheRef({ repo: `${reg.host}/c:v2` }, []), `${reg.host}/c:v2`);
  const ctx = fx.context({ Dockerfile: `FROM ${base}\nRUN true\n` });
  const args = ['executor', '--context', `dir://${ctx}`, '--root', path.join(fx.tmp, 'bad-root'), '--state-dir', path.join(fx.tmp, 'bad-state'), '--no-push'];
  const noRepo = await kiln([...args, '--cache'], { root: fx.root });
  assert.notEqual(noRepo.code, 0);
  assert.match(noRepo.stderr, /--cache needs a repository for the cache/);
  const ttl = await kiln([...args, '--cache', '--cache-repo', `${reg.host}/c`, '--cache-ttl', 'soon'], { root: fx.root });
  assert.notEqual(ttl.code, 0);
  assert.match(ttl.stderr, /--cache-ttl soon: not a duration/);
  const flag = await kiln([...args, '--cache=maybe'], { root: fx.root });
  assert.notEqual(flag.code, 0);
  assert.match(flag.stderr, /--cache=maybe: use true or false/);
});
