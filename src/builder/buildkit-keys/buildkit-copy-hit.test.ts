/**
 * The COPY forms beyond one context path (several sources, wildcards,
 * --chown, --chmod, --from a stage and an image, --link, --exclude, --parents,
 * in a FROM scratch stage) between kiln and a real buildkitd (src/testing/buildkit.ts) both ways:
 * BuildKit's cache (local dir, mode=max) → kiln on a fresh root takes every
 * step CACHED with BuildKit's files; kiln's export (local and registry, mode=max) → buildkitd that pruned
 * its own cache shows every step reused with kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cachedSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkStamp: string;
let bkCache: string;

/** 1 RUN in stage other; 2 COPYs in the scratch stage bare; WORKDIR, 13 COPYs and a RUN in the target. */
const STEPS = 18;

/** The context in `dir`, its src/x.txt `x`. */
function writeContext(dir: string, x: string): void {
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  mkdirSync(path.join(dir, 'src', 'empty'));
  writeFileSync(path.join(dir, 'a.txt'), 'a\n');
  writeFileSync(path.join(dir, 'b.txt'), 'b\n');
  writeFileSync(path.join(dir, 'src', 'x.txt'), x);
  writeFileSync(path.join(dir, 'src', 'sub', 'y.txt'), 'y\n');
  symlinkSync('x.txt', path.join(dir, 'src', 'link'));
}

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-copy-hit-');
  const base = fx.base;
  ctx = path.join(fx.tmp, 'ctx');
  writeContext(ctx, 'x\n');
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${base} AS other`,
      'RUN echo other > /o.txt && cat /proc/sys/kernel/random/uuid > /o-stamp',
      'FROM scratch AS bare',
      'COPY --from=other /o.txt /bare/',
      'COPY a.txt /bare/',
      `FROM ${base}`,
      'WORKDIR /app',
      'COPY a.txt b.txt ./dst/',
      'COPY *.txt src/*.txt ./w/',
      'COPY s* ./wd/',
      'COPY --chown=1000:1000 a.txt ./c1/',
      'COPY --chown=nobody:nogroup --chmod=0640 a.txt b.txt ./c2/',
      'COPY --chmod=u+x,g-r a.txt ./m2/',
      'COPY --from=other /o.txt /o-stamp ./f1/',
      `COPY --from=${base} /etc/group ./f2/`,
      'COPY --link a.txt src/ ./l/',
      'COPY --link --chown=1000:1000 --from=other /o.txt ./lf/',
      'COPY --exclude=sub --exclude=*.md src/ ./ex/',
      'COPY --parents src/./sub/y.txt a.txt ./par/',
      'COPY --from=bare /bare ./bare/',
      'RUN cat f1/o-stamp /proc/sys/kernel/random/uuid > stamp && ls -ln c1 c2 m2 lf | sed "s/  */ /g" >> stamp',
      '',
    ].join('\n'),
  );
  const r = await buildkitFirst(fx, ctx, 'copy');
  bkCache = r.cache;
  bkStamp = readFileSync(path.join(r.out, 'app', 'stamp'), 'utf8');
  assert.match(bkStamp, /^[0-9a-f-]{36}\n[0-9a-f-]{36}\n/);
  assert.match(bkStamp, / 1000 1000 2 .* a.txt\n/);
  assert.match(bkStamp, /-rw-r----- 1 65534 65534 2 .* b.txt\n/);
  assert.match(bkStamp, /-rwx---r-- 1 0 0 2 .* a.txt\n/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: several sources, wildcards, --chown, --chmod, --from a stage and an image, --link, --exclude, --parents, FROM scratch, all CACHED, BuildKit's files", async () => {
  const r = await kilnFrom(fx!, ctx, bkCache, 'copy');
  assertKilnTookBuildkit(r, STEPS, path.join('app', 'stamp'), bkStamp);
  const app = path.join(r.out, 'app');
  assert.equal(readFileSync(path.join(app, 'w', 'x.txt'), 'utf8'), 'x\n');
  assert.equal(readFileSync(path.join(app, 'wd', 'link'), 'utf8'), 'x\n');
  assert.match(readFileSync(path.join(app, 'f2', 'group'), 'utf8'), /^nogroup:x:65534:$/m);
  assert.deepEqual(readdirSync(path.join(app, 'ex')).sort(), ['empty', 'link', 'x.txt']);
  assert.equal(readFileSync(path.join(app, 'par', 'sub', 'y.txt'), 'utf8'), 'y\n');
  assert.equal(readFileSync(path.join(app, 'par', 'a.txt'), 'utf8'), 'a\n');
  assert.deepEqual(readdirSync(path.join(app, 'bare')).sort(), ['a.txt', 'o.txt']);
});

test("a changed file matched by a wildcard misses that COPY and what follows; the steps before it hit", async () => {
  const other = path.join(fx!.tmp, 'ctx-changed');
  writeContext(other, 'x, changed\n');
  writeFileSync(path.join(other, 'Dockerfile'), readFileSync(path.join(ctx, 'Dockerfile')));
  const r = await kilnFrom(fx!, other, bkCache, 'copy-changed');
  // other's RUN, bare's two COPYs, WORKDIR and COPY a.txt b.txt hit; COPY *.txt src/*.txt misses, and the chain stops.
  assert.equal(cachedSteps(r.stderr), 5, r.stderr);
});

test("kiln's export (local and registry, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'copy', { registry: true }), { shown: STEPS, reused: STEPS }, path.join('app', 'stamp'), bkStamp);
});
