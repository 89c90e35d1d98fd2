/**
 * Reproducible builds (SOURCE_DATE_EPOCH) share caches with a real buildkitd
 * (src/testing/buildkit.ts): BuildKit's mode=max local cache of a build with
 * `build-arg:SOURCE_DATE_EPOCH` is not taken by kiln under an epoch (its
 * layers keep the times BuildKit's RUN left, where kiln's clamp them; and
 * BuildKit's RUN/COPY keys do not hold the epoch): every step runs. kiln's
 * export → buildkitd after `buildctl prune --all`: every step reused (WORKDIR's
 * mkdir carries the epoch, the other keys as without one).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestBuildkit } from '../../testing/buildkit.js';
import { buildctlReused, cachedSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { kilnOk } from '../../testing/kiln.js';

let bk: TestBuildkit;
let fx: BuildkitWithBase | undefined;
let tmp: string;
let ctx: string;
let bkAll: string;

const EPOCH = 'SOURCE_DATE_EPOCH=1700000000';
const STEPS = 4;



const bkBuild = (extra: string[]) =>
  bk.buildctl(['build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`, '--opt', `build-arg:${EPOCH}`, ...extra]);

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-epoch-hit-');
  ({ tmp, bk } = fx);
  const base = fx.base;
  ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    `FROM ${base}\nWORKDIR /app\nRUN cat /proc/sys/kernel/random/uuid > id\nCOPY f.txt ./\nRUN --mount=type=cache,target=/c cat id f.txt > all && cat /proc/sys/kernel/random/uuid >> all\n`,
  );
  writeFileSync(path.join(ctx, 'f.txt'), 'reproducible\n');
  const out = path.join(tmp, 'bk-out');
  await bkBuild(['--export-cache', `type=local,dest=${path.join(tmp, 'bk-cache')},mode=max`, '--output', `type=local,dest=${out}`]);
  bkAll = readFileSync(path.join(out, 'app', 'all'), 'utf8');
  assert.match(bkAll, /^[0-9a-f-]{36}\nreproducible\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache of a SOURCE_DATE_EPOCH build → kiln with the same epoch: no step taken from it (kiln clamps what it runs)", async () => {
  const dest = path.join(tmp, 'kiln-out');
  const r = await kilnOk(['build', '--progress=plain', '--build-arg', EPOCH, '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`, ctx], { root: path.join(tmp, 'fresh') });
  assert.equal(cachedSteps(r.stderr), 0, r.stderr);
  assert.notEqual(readFileSync(path.join(dest, 'app', 'all'), 'utf8'), bkAll, 'kiln ran its RUNs');
  // The same build without an epoch takes every step (the keys are BuildKit's; only WORKDIR's holds the epoch, and it is in the cache's chain).
  const plain = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}-plain`, ctx], { root: path.join(tmp, 'fresh-plain') });
  assert.equal(cachedSteps(plain.stderr), 0, 'without the epoch WORKDIR\'s mkdir differs, so nothing after it hits');
});

test("kiln's export of a SOURCE_DATE_EPOCH build → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  const local = path.join(tmp, 'kiln-cache');
  const dest = path.join(tmp, 'kiln-built');
  await kilnOk(['build', '--build-arg', EPOCH, '--cache-to', `type=local,dest=${local},mode=max`, '-o', `type=local,dest=${dest}`, ctx], { root: path.join(tmp, 'kiln-writes') });
  const kilnAll = readFileSync(path.join(dest, 'app', 'all'), 'utf8');
  assert.notEqual(kilnAll, bkAll, 'kiln ran its steps (no --cache-from)');
  await bk.buildctl(['prune', '--all']);
  const out = path.join(tmp, 'bk-from-kiln');
  const r = await bkBuild(['--import-cache', `type=local,src=${local}`, '--output', `type=local,dest=${out}`]);
  assert.equal(buildctlReused(r.stderr), STEPS, r.stderr);
  assert.equal(readFileSync(path.join(out, 'app', 'all'), 'utf8'), kilnAll, "BuildKit used kiln's layers");
});
