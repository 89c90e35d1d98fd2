/**
 * A COPY whose every wildcard matches nothing, between a real buildkitd and kiln: BuildKit's copy allows an
 * empty wildcard (allowEmptyWildcard: it copies nothing and fails nothing) and so does kiln (no layer); its
 * key is the content of an empty match (sha256("")), then a RUN, through mode=max local caches both ways:
 * every step CACHED, the other tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The COPY and the RUN. */
const STEPS = 2;

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-copy-empty-');
  ctx = path.join(fx.tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'a.txt'), 'a\n');
  writeFileSync(path.join(ctx, 'Dockerfile'), [`FROM ${fx.base}`, 'COPY *.none /d/', 'RUN test ! -e /d && echo none > /all && cat /proc/sys/kernel/random/uuid >> /all', ''].join('\n'));
  const r = await buildkitFirst(fx, ctx, 'empty');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.match(bkAll, /^none\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: COPY of a wildcard matching nothing and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'empty'), STEPS, 'all', bkAll);
});

test("kiln's export → buildkitd with no cache of its own: the empty COPY and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'empty'), STEPS, 'all', bkAll);
});
