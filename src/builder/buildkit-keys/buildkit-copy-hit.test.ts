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
import type { TestRegistry } from '../../testing/registry.js';
import type { TestBuildkit } from '../../testing/buildkit.js';
import { buildctlReused, buildctlSteps, cachedSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { kilnOk } from '../../testing/kiln.js';

let reg: TestRegistry;
let bk: TestBuildkit;
let fx: BuildkitWithBase | undefined;
let tmp: string;
let ctx: string;
let bkStamp: string;

/** 1 RUN in stage other; 2 COPYs in the scratch stage bare; WORKDIR, 13 COPYs and a RUN in the target. */
const STEPS = 18;


before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-copy-hit-');
  ({ tmp, reg, bk } = fx);
  const base = fx.base;
  ctx = path.join(tmp, 'ctx');
  mkdirSync(path.join(ctx, 'src', 'sub'), { recursive: true });
  mkdirSync(path.join(ctx, 'src', 'empty'));
  writeFileSync(path.join(ctx, 'a.txt'), 'a\n');
  writeFileSync(path.join(ctx, 'b.txt'), 'b\n');
  writeFileSync(path.join(ctx, 'src', 'x.txt'), 'x\n');
  writeFileSync(path.join(ctx, 'src', 'sub', 'y.txt'), 'y\n');
  symlinkSync('x.txt', path.join(ctx, 'src', 'link'));
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
  const out = path.join(tmp, 'bk-out');
  await bk.buildctl([
    'build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`,
    '--export-cache', `type=local,dest=${path.join(tmp, 'bk-cache')},mode=max`,
    '--output', `type=local,dest=${out}`,
  ]);
  bkStamp = readFileSync(path.join(out, 'app', 'stamp'), 'utf8');
  assert.match(bkStamp, /^[0-9a-f-]{36}\n[0-9a-f-]{36}\n/);
  assert.match(bkStamp, / 1000 1000 2 .* a.txt\n/);
  assert.match(bkStamp, /-rw-r----- 1 65534 65534 2 .* b.txt\n/);
  assert.match(bkStamp, /-rwx---r-- 1 0 0 2 .* a.txt\n/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: several sources, wildcards, --chown, --chmod, --from a stage and an image, --link, --exclude, --parents, FROM scratch, all CACHED, BuildKit's files", async () => {
  const dest = path.join(tmp, 'kiln-out');
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`, ctx], { root: path.join(tmp, 'fresh') });
  assert.equal(cachedSteps(r.stderr), STEPS, r.stderr);
  assert.equal(readFileSync(path.join(dest, 'app', 'stamp'), 'utf8'), bkStamp, 'the layers are the ones BuildKit made: nothing ran');
  assert.equal(readFileSync(path.join(dest, 'app', 'w', 'x.txt'), 'utf8'), 'x\n');
  assert.equal(readFileSync(path.join(dest, 'app', 'wd', 'link'), 'utf8'), 'x\n');
  assert.match(readFileSync(path.join(dest, 'app', 'f2', 'group'), 'utf8'), /^nogroup:x:65534:$/m);
  assert.deepEqual(readdirSync(path.join(dest, 'app', 'ex')).sort(), ['empty', 'link', 'x.txt']);
  assert.equal(readFileSync(path.join(dest, 'app', 'par', 'sub', 'y.txt'), 'utf8'), 'y\n');
  assert.equal(readFileSync(path.join(dest, 'app', 'par', 'a.txt'), 'utf8'), 'a\n');
  assert.deepEqual(readdirSync(path.join(dest, 'app', 'bare')).sort(), ['a.txt', 'o.txt']);
});

test("a changed file matched by a wildcard misses that COPY and what follows; the steps before it hit", async () => {
  const other = path.join(tmp, 'ctx-changed');
  mkdirSync(path.join(other, 'src', 'sub'), { recursive: true });
  mkdirSync(path.join(other, 'src', 'empty'));
  writeFileSync(path.join(other, 'Dockerfile'), readFileSync(path.join(ctx, 'Dockerfile')));
  writeFileSync(path.join(other, 'a.txt'), 'a\n');
  writeFileSync(path.join(other, 'b.txt'), 'b\n');
  writeFileSync(path.join(other, 'src', 'x.txt'), 'x, changed\n');
  writeFileSync(path.join(other, 'src', 'sub', 'y.txt'), 'y\n');
  symlinkSync('x.txt', path.join(other, 'src', 'link'));
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${path.join(tmp, 'kiln-out-changed')}`, other], { root: path.join(tmp, 'fresh-changed') });
  // other's RUN, bare's two COPYs, WORKDIR and COPY a.txt b.txt hit; COPY *.txt src/*.txt misses, and the chain stops.
  assert.equal(cachedSteps(r.stderr), 5, r.stderr);
});

test("kiln's export (local and registry, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  const root = path.join(tmp, 'kiln-writes');
  const local = path.join(tmp, 'kiln-cache');
  const dest = path.join(tmp, 'kiln-built');
  await kilnOk(['build', '--cache-to', `type=local,dest=${local},mode=max`, '--cache-to', `type=registry,ref=${reg.host}/cache/kiln-copy:max,mode=max`, '-o', `type=local,dest=${dest}`, ctx], { root });
  const kilnStamp = readFileSync(path.join(dest, 'app', 'stamp'), 'utf8');
  assert.notEqual(kilnStamp, bkStamp, 'kiln ran its steps (no --cache-from)');
  for (const imp of [`type=local,src=${local}`, `type=registry,ref=${reg.host}/cache/kiln-copy:max`]) {
    await bk.buildctl(['prune', '--all']);
    const out = path.join(tmp, `bk-from-kiln-${imp.replace(/\W/g, '_')}`);
    const r = await bk.buildctl(['build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`, '--import-cache', imp, '--output', `type=local,dest=${out}`]);
    assert.equal(buildctlSteps(r.stderr).length, STEPS, r.stderr);
    assert.equal(buildctlReused(r.stderr), STEPS, `${imp}: ${r.stderr}`);
    assert.equal(readFileSync(path.join(out, 'app', 'stamp'), 'utf8'), kilnStamp, `${imp}: BuildKit used kiln's layers`);
  }
});
