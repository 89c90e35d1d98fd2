/**
 * The COPY forms copy-heredoc.ts and copy-content.ts name beyond
 * buildkit-copy-hit.test.ts's: a heredoc (with --chmod, and first on
 * scratch), a symlink as the source (to a file, to a directory), a wildcard
 * before the last component, a wildcard matching nothing next to a source
 * that matches, a wildcard matching symlinks; between kiln and a real
 * buildkitd (src/testing/buildkit.ts) both ways: BuildKit's cache (local dir,
 * mode=max) → kiln on a fresh root takes every step CACHED with BuildKit's
 * files; kiln's export (local and registry, mode=max) → buildkitd that pruned
 * its own cache shows every step reused with kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cachedSteps, stepLines } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkStamp: string;
let bkCache: string;

/** bare's heredoc COPY; WORKDIR, 8 COPYs and a RUN in the target. */
const STEPS = 11;

/** The stamp's second part: what the COPYs left, which both tools make alike. */
const listing = (stamp: string): string => stamp.slice(stamp.indexOf('\n') + 1);

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-copy-more-');
  ctx = path.join(fx.tmp, 'ctx');
  for (const d of ['src/sub', 'other']) mkdirSync(path.join(ctx, d), { recursive: true });
  writeFileSync(path.join(ctx, 'a.txt'), 'a\n');
  writeFileSync(path.join(ctx, 'src', 'x.txt'), 'src x\n');
  writeFileSync(path.join(ctx, 'src', 'sub', 'y.txt'), 'y\n');
  writeFileSync(path.join(ctx, 'other', 'x.txt'), 'other x\n');
  symlinkSync('a.txt', path.join(ctx, 'flink'));
  symlinkSync('src', path.join(ctx, 'dlink'));
  symlinkSync('/a.txt', path.join(ctx, 'lf'));
  symlinkSync('other', path.join(ctx, 'ld'));
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM scratch AS bare',
      'COPY <<EOF /bare.txt',
      'first on scratch',
      'EOF',
      `FROM ${fx.base}`,
      'WORKDIR /app',
      'COPY <<EOF ./h/hello.txt',
      'hello from a heredoc',
      'EOF',
      'COPY --chmod=0755 <<EOF ./h/run.sh',
      '#!/bin/sh',
      'echo hi',
      'EOF',
      'COPY flink ./s1/',
      'COPY dlink ./s2/',
      'COPY [os]*/x.txt ./w1/',
      'COPY a.txt *.none ./w2/',
      'COPY l* ./w3/',
      'COPY --from=bare /bare.txt ./bare/',
      `RUN (cat /proc/sys/kernel/random/uuid && find /app -exec stat -c '%n %a %u:%g %s' {} + | sort && cat h/hello.txt h/run.sh s1/* w1/* bare/*) > /stamp`,
      '',
    ].join('\n'),
  );
  const r = await buildkitFirst(fx, ctx, 'copy-more');
  bkCache = r.cache;
  bkStamp = readFileSync(path.join(r.out, 'stamp'), 'utf8');
  assert.match(bkStamp, /^[0-9a-f-]{36}\n/);
  assert.match(bkStamp, /^\/app\/h\/run.sh 755 0:0 /m);
  assert.match(bkStamp, /hello from a heredoc\n/);
});

after(async () => {
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: heredocs, symlink sources, wildcards (before the last component, matching nothing, matching symlinks) all CACHED, BuildKit's files", async () => {
  const r = await kilnFrom(fx!, ctx, bkCache, 'copy-more');
  assertKilnTookBuildkit(r, STEPS, 'stamp', bkStamp);
  assert.equal(readFileSync(path.join(r.out, 'app', 'h', 'hello.txt'), 'utf8'), 'hello from a heredoc\n');
});

test('a changed heredoc misses its COPY and what follows; the steps before it hit', async () => {
  const changed = path.join(fx!.tmp, 'Dockerfile.changed');
  writeFileSync(changed, readFileSync(path.join(ctx, 'Dockerfile'), 'utf8').replace('hello from a heredoc', 'hello, changed'));
  const r = await kilnFrom(fx!, ctx, bkCache, 'copy-more-changed', { kiln: ['-f', changed] });
  // bare's heredoc COPY and WORKDIR hit; the changed heredoc misses, and the chain stops.
  assert.equal(cachedSteps(r.stderr), 2, stepLines(r.stderr).join('\n'));
});

test("kiln's export (local and registry, mode=max) → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  const kilnStamp = assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'copy-more', { registry: true }), { shown: STEPS, reused: STEPS }, 'stamp', bkStamp);
  assert.equal(listing(kilnStamp), listing(bkStamp), 'kiln copies what BuildKit copies');
});
