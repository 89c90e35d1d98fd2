/**
 * A RUN on `FROM scratch` (its root mount has no input: `"input":-1`, the
 * record links only what it mounts, here busybox's /bin from the image) and a
 * RUN binding symlinks of the context (BuildKit follows them: the content is
 * the target's, a file and a directory), between a real buildkitd and kiln
 * through mode=max local caches, both ways: every step CACHED, the other
 * tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The RUN on scratch, the RUN binding symlinks, the COPY --from the scratch stage and the last RUN. */
const STEPS = 4;
const UUID = 'cat /proc/sys/kernel/random/uuid';

const dockerfile = (base: string) =>
  [
    'FROM scratch AS bare',
    `RUN --mount=type=bind,from=${base},source=/bin,target=/bin ["/bin/sh", "-c", "mkdir /out && ${UUID} > /out/id"]`,
    `FROM ${base}`,
    `RUN --mount=type=bind,source=link,target=/l --mount=type=bind,source=dlink,target=/dl cat /l /dl/a.txt > /viaLinks && ${UUID} >> /viaLinks`,
    'COPY --from=bare /out/id /bareid',
    'RUN cat /viaLinks /bareid > /all',
    '',
  ].join('\n');

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-run-scratch-');
  ctx = path.join(fx.tmp, 'ctx');
  mkdirSync(path.join(ctx, 'src'), { recursive: true });
  writeFileSync(path.join(ctx, 'f.txt'), 'linked file\n');
  writeFileSync(path.join(ctx, 'src', 'a.txt'), 'linked dir\n');
  symlinkSync('f.txt', path.join(ctx, 'link'));
  symlinkSync('./src', path.join(ctx, 'dlink'));
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile(fx.base));
  const r = await buildkitFirst(fx, ctx, 'scratch');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  const id = '[0-9a-f-]{36}';
  assert.match(bkAll, new RegExp(`^linked file\nlinked dir\n${id}\n${id}\n$`));
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: a RUN on scratch and a RUN binding symlinks of the context CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'scratch'), STEPS, path.join('all'), bkAll);
});

test("kiln's export → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'scratch'), STEPS, path.join('all'), bkAll);
});
