/**
 * Reproducible builds (SOURCE_DATE_EPOCH) share caches with a real buildkitd
 * (src/testing/buildkit.ts): BuildKit's mode=max local cache of a build with
 * `build-arg:SOURCE_DATE_EPOCH` is not taken by kiln under an epoch (its
 * layers keep the times BuildKit's RUN left, where kiln's clamp them; and
 * BuildKit's RUN/COPY keys do not hold the epoch): every step runs. kiln's
 * export → buildkitd after `buildctl prune --all`: every step reused (WORKDIR's
 * mkdir carries the epoch, the other keys as without one: ADD of a file, a URL
 * and a heredoc too, and WORKDIR under USER: its mkdir has the owner and the epoch).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cachedSteps } from '../../testing/buildctl-steps.js';
import { startFileServer, type TestFileServer } from '../../testing/file-server.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext, type BothWaysArgs } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let files: TestFileServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

const EPOCH = 'SOURCE_DATE_EPOCH=1700000000';
const STEPS = 9;
/** Both tools build under the epoch. */
const WITH_EPOCH: BothWaysArgs = { bk: ['--opt', `build-arg:${EPOCH}`], kiln: ['--build-arg', EPOCH] };

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-epoch-hit-');
  files = await startFileServer({ '/dl/u.txt': 'downloaded\n' });
  ctx = writeContext(fx, {
    Dockerfile: [
      `FROM ${fx.base}`,
      'WORKDIR /app',
      'RUN cat /proc/sys/kernel/random/uuid > id',
      'COPY f.txt ./',
      'ADD f.txt ./added/',
      `ADD ${files.url}/dl/u.txt ./dl/`,
      'ADD <<EOF ./h.txt',
      'heredoc',
      'EOF',
      'USER 1000:1000',
      'WORKDIR /owned',
      'USER root',
      'WORKDIR /app',
      'RUN --mount=type=cache,target=/c cat id f.txt added/f.txt dl/u.txt h.txt > all && cat /proc/sys/kernel/random/uuid >> all',
      '',
    ].join('\n'),
    'f.txt': 'reproducible\n',
  });
  const r = await buildkitFirst(fx, ctx, 'epoch', WITH_EPOCH);
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'app', 'all'), 'utf8');
  assert.match(bkAll, /^[0-9a-f-]{36}\nreproducible\nreproducible\ndownloaded\nheredoc\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await files?.stop();
  await fx?.stop();
});

test("BuildKit's cache of a SOURCE_DATE_EPOCH build → kiln with the same epoch: no step taken from it (kiln clamps what it runs)", async () => {
  const r = await kilnFrom(fx!, ctx, bkCache, 'epoch', WITH_EPOCH);
  assert.equal(cachedSteps(r.stderr), 0, r.stderr);
  assert.notEqual(readFileSync(path.join(r.out, 'app', 'all'), 'utf8'), bkAll, 'kiln ran its RUNs');
  // The same build without an epoch takes every step (the keys are BuildKit's; only WORKDIR's holds the epoch, and it is in the cache's chain).
  const plain = await kilnFrom(fx!, ctx, bkCache, 'epoch-plain');
  assert.equal(cachedSteps(plain.stderr), 0, 'without the epoch WORKDIR\'s mkdir differs, so nothing after it hits');
});

test("kiln's export of a SOURCE_DATE_EPOCH build → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'epoch', WITH_EPOCH), STEPS, path.join('app', 'all'), bkAll);
});
