/**
 * COPY through symlinks, between a real buildkitd and kiln: a wildcard under a symlinked directory
 * (`COPY link/*.txt /d/`: the prefix before the wildcard followed in the context, copy-content.ts), and, in a
 * context whose .dockerignore excludes a symlink, `COPY . /app/` (the client sends the tree without it,
 * tree-checksum.ts), each then a RUN, through mode=max local caches both ways: every step CACHED, the other
 * tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
const ctx: Record<'glob' | 'ignored', string> = { glob: '', ignored: '' };
const bkAll: Record<string, string> = {};
const bkCache: Record<string, string> = {};

/** Each context's COPY and RUN. */
const STEPS = 2;

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-copy-links-');
  ctx.glob = path.join(fx.tmp, 'glob');
  mkdirSync(path.join(ctx.glob, 'src'), { recursive: true });
  writeFileSync(path.join(ctx.glob, 'src', 'a.txt'), 'a\n');
  writeFileSync(path.join(ctx.glob, 'src', 'b.txt'), 'b\n');
  writeFileSync(path.join(ctx.glob, 'src', 'c.md'), 'c\n');
  symlinkSync('src', path.join(ctx.glob, 'link'));
  writeFileSync(path.join(ctx.glob, 'Dockerfile'), [`FROM ${fx.base}`, 'COPY link/*.txt /d/', 'RUN ls /d > /all && cat /d/a.txt /d/b.txt >> /all && cat /proc/sys/kernel/random/uuid >> /all', ''].join('\n'));
  ctx.ignored = path.join(fx.tmp, 'ignored');
  mkdirSync(path.join(ctx.ignored, 'dir'), { recursive: true });
  writeFileSync(path.join(ctx.ignored, 'f.txt'), 'f\n');
  writeFileSync(path.join(ctx.ignored, 'dir', 'g.txt'), 'g\n');
  symlinkSync('f.txt', path.join(ctx.ignored, 'ln'));
  symlinkSync('../f.txt', path.join(ctx.ignored, 'dir', 'ln2'));
  writeFileSync(path.join(ctx.ignored, '.dockerignore'), 'ln\ndir/ln2\nDockerfile\n.dockerignore\n');
  writeFileSync(path.join(ctx.ignored, 'Dockerfile'), [`FROM ${fx.base}`, 'COPY . /app/', 'RUN ls -A /app /app/dir > /all && cat /proc/sys/kernel/random/uuid >> /all', ''].join('\n'));
  for (const k of ['glob', 'ignored'] as const) {
    const r = await buildkitFirst(fx, ctx[k], k);
    bkCache[k] = r.cache;
    bkAll[k] = readFileSync(path.join(r.out, 'all'), 'utf8');
  }
  assert.match(bkAll.glob!, /^a\.txt\nb\.txt\na\nb\n[0-9a-f-]{36}\n$/);
  assert.match(bkAll.ignored!, /^\/app:\ndir\nf\.txt\n\n\/app\/dir:\ng\.txt\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: COPY link/*.txt through a symlinked directory and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx.glob, bkCache.glob!, 'glob'), STEPS, 'all', bkAll.glob!);
});

test("kiln's export → buildkitd with no cache of its own: COPY link/*.txt and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx.glob, 'glob'), STEPS, 'all', bkAll.glob!);
});

test("BuildKit's cache → kiln on a fresh root: COPY . of a context whose .dockerignore excludes symlinks and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx.ignored, bkCache.ignored!, 'ignored'), STEPS, 'all', bkAll.ignored!);
});

test("kiln's export → buildkitd with no cache of its own: COPY . without the excluded symlinks and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx.ignored, 'ignored'), STEPS, 'all', bkAll.ignored!);
});
