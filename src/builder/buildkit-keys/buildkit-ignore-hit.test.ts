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
import type { TestBuildkit } from '../../testing/buildkit.js';
import { buildctlReused, buildctlSteps, cachedSteps, stepLines } from '../../testing/buildctl-steps.js';
import { buildctlBuild, startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { kilnOk } from '../../testing/kiln.js';

let bk: TestBuildkit;
let fx: BuildkitWithBase | undefined;
let tmp: string;
let ctx: string;
let bkStamp: string;

/** 8 COPYs and a RUN. */
const STEPS = 9;

const listing = (stamp: string): string => stamp.slice(stamp.indexOf('\n') + 1);

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-ignore-');
  ({ tmp, bk } = fx);
  ctx = path.join(tmp, 'ctx');
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
  const out = path.join(tmp, 'bk-out');
  await buildctlBuild(bk, ctx, { out, exportCache: path.join(tmp, 'bk-cache') });
  bkStamp = readFileSync(path.join(out, 'stamp'), 'utf8');
  assert.match(bkStamp, /^\/m1\/sub\/b.txt 644 4$/m);
  assert.doesNotMatch(bkStamp, /c.txt|x.log|o.txt|d.md/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: each COPY under a .dockerignore with exceptions CACHED, BuildKit's files", async () => {
  const dest = path.join(tmp, 'kiln-out');
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`, ctx], { root: path.join(tmp, 'fresh') });
  assert.equal(cachedSteps(r.stderr), STEPS, stepLines(r.stderr).join('\n'));
  assert.equal(readFileSync(path.join(dest, 'stamp'), 'utf8'), bkStamp, 'the layers are the ones BuildKit made: nothing ran');
});

test("kiln's export (local, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  const local = path.join(tmp, 'kiln-cache');
  const dest = path.join(tmp, 'kiln-built');
  await kilnOk(['build', '--cache-to', `type=local,dest=${local},mode=max`, '-o', `type=local,dest=${dest}`, ctx], { root: path.join(tmp, 'kiln-writes') });
  const kilnStamp = readFileSync(path.join(dest, 'stamp'), 'utf8');
  assert.notEqual(kilnStamp, bkStamp, 'kiln ran its steps (no --cache-from)');
  assert.equal(listing(kilnStamp), listing(bkStamp), 'kiln copies what BuildKit copies');
  await bk.buildctl(['prune', '--all']);
  const out = path.join(tmp, 'bk-from-kiln');
  const stderr = await buildctlBuild(bk, ctx, { out, importCache: `type=local,src=${local}` });
  assert.deepEqual({ steps: buildctlSteps(stderr).length, reused: buildctlReused(stderr) }, { steps: STEPS, reused: STEPS }, stderr);
  assert.equal(readFileSync(path.join(out, 'stamp'), 'utf8'), kilnStamp, "BuildKit used kiln's layers");
});
