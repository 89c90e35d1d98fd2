/**
 * RUN --mount=type=bind from another stage and from an image (an exec op with
 * more than one input: BuildKit numbers the mounts' states in target order, a
 * stage mounted twice is one input whose selector joins both paths), and one
 * RUN with three inputs (a stage, the context, an owned cache mount's mkdir),
 * between a real buildkitd and kiln through mode=max local caches.
 * BuildKit's cache → kiln on a fresh root: every step CACHED, BuildKit's
 * files (each RUN writes a random ID); kiln's --cache-to → buildkitd after
 * `buildctl prune --all`: every step reused, kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { cachedSteps, stepLines } from '../../testing/buildctl-steps.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The tools stage's RUN, WORKDIR, the three RUNs with mounts from elsewhere and the last RUN. */
const STEPS = 6;
const UUID = 'cat /proc/sys/kernel/random/uuid';

const dockerfile = (base: string) =>
  [
    `FROM ${base} AS tools`,
    `RUN mkdir -p /opt/t && echo tool > /opt/t/v && ${UUID} > /opt/t/id`,
    `FROM ${base}`,
    'WORKDIR /app',
    `RUN --mount=type=bind,from=tools,source=/opt/t,target=/t cat /t/v /t/id > fromStage && ${UUID} >> fromStage`,
    `RUN --mount=type=bind,from=${base},source=/bin/busybox,target=/x/busybox /x/busybox echo image > fromImage && ${UUID} >> fromImage`,
    'RUN --mount=type=bind,from=tools,source=/opt/t/v,target=/m/v --mount=type=bind,source=f.txt,target=/m/f' +
      ` --mount=type=cache,target=/m/c,uid=1000 --mount=type=bind,from=tools,source=/opt/t/id,target=/m/id cat /m/v /m/f /m/id > three && stat -c %u /m/c >> three && ${UUID} >> three`,
    'RUN cat fromStage fromImage three > all',
    '',
  ].join('\n');

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-run-from-');
  ctx = writeContext(fx, { Dockerfile: dockerfile(fx.base), 'f.txt': 'context file\n' });
  const r = await buildkitFirst(fx, ctx, 'from');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'app', 'all'), 'utf8');
  const id = '[0-9a-f-]{36}';
  assert.match(bkAll, new RegExp(`^tool\n(${id})\n${id}\nimage\n${id}\ntool\ncontext file\n\\1\n1000\n${id}\n$`));
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: RUNs binding another stage, an image, and a stage + the context + an owned cache in one, CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'from'), STEPS, path.join('app', 'all'), bkAll);
});

test('another tools stage: its RUN and every RUN binding it miss (kiln runs them), the WORKDIR before them hits', async () => {
  const other = writeContext(fx!, { Dockerfile: dockerfile(fx!.base).replace('echo tool >', 'echo other >'), 'f.txt': 'context file\n' }, 'ctx-other');
  const r = await kilnFrom(fx!, other, bkCache, 'from-other');
  assert.equal(cachedSteps(r.stderr), 1, stepLines(r.stderr).join('\n'));
  assert.match(readFileSync(path.join(r.out, 'app', 'all'), 'utf8'), /^other\n/);
});

test("kiln's export → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'from'), STEPS, path.join('app', 'all'), bkAll);
});
