/**
 * COPY under a .dockerignore with `!` exceptions (at a file under an excluded
 * directory, under a `**` pattern) in the forms copy-content.ts names beyond
 * buildkit-forms-hit.test.ts's one directory: several sources with a
 * directory, wildcards (matching an excluded directory an exception keeps,
 * before the last component), --link of a directory, the whole context;
 * between kiln and a real buildkitd (src/testing/buildkit.ts) both ways:
 * BuildKit's cache (local dir, mode=max) → kiln on a fresh root takes every
 * step CACHED with BuildKit's files; kiln's export → buildkitd that pruned its
 * own cache shows every step reused with kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkStamp: string;
let bkCache: string;

/** 8 COPYs and a RUN. */
const STEPS = 9;

const listing = (stamp: string): string => stamp.slice(stamp.indexOf('\n') + 1);

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-ignore-');
  ctx = path.join(fx.tmp, 'ctx');
  for (const d of ['src/sub', 'src/keep', 'other', 'docs/keep']) mkdirSync(path.join(ctx, d), { recursive: true });
  const files: Record<string, string> = {
    'f.txt': 'f\n', 'src/a.txt': 'aaa\n', 'src/x.log': 'log\n', 'src/sub/b.txt': 'bbb\n', 'src/sub/c.txt': 'ccc\n', 'src/keep/k.txt': 'k\n',
    'other/o.txt': 'o\n', 'other/p.txt': 'p\n', 'docs/d.md': 'd\n', 'docs/keep/k.md': 'kd\n',
  };
  for (const [f, text] of Object.entries(files)) {
    writeFileSync(path.join(ctx, f), text);
    chmodSync(path.join(ctx, f), 0o644);
  }
  chmodSync(path.join(ctx, 'src', 'sub'), 0o700);
  writeFileSync(path.join(ctx, '.dockerignore'), 'src/sub\n!src/sub/b.txt\n**/*.log\nother/o.txt\n**/*.md\n!docs/keep/*.md\n');
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${fx.base}`,
      'COPY f.txt /',
      'COPY src/ f.txt /m1/',
      'COPY src/* /m2/',
      'COPY src/*.txt other/* /m3/',
      'COPY --link src/ /m4/',
      'COPY docs /m5/',
      'COPY */k* /m6/',
      'COPY . /m7/',
      `RUN (cat /proc/sys/kernel/random/uuid && find /m1 /m2 /m3 /m4 /m5 /m6 /m7 -exec stat -c '%n %a %s' {} + | sort) > /stamp`,
      '',
    ].join('\n'),
  );
  const r = await buildkitFirst(fx, ctx, 'ignore');
  bkCache = r.cache;
  bkStamp = readFileSync(path.join(r.out, 'stamp'), 'utf8');
  assert.match(bkStamp, /^\/m1\/sub\/b.txt 644 4$/m);
  assert.doesNotMatch(bkStamp, /c.txt|x.log|o.txt|d.md/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: each COPY under a .dockerignore with exceptions CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'ignore'), STEPS, 'stamp', bkStamp);
});

test("kiln's export (local, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  const kilnStamp = assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'ignore'), { shown: STEPS, reused: STEPS }, 'stamp', bkStamp);
  assert.equal(listing(kilnStamp), listing(bkStamp), 'kiln copies what BuildKit copies');
});
