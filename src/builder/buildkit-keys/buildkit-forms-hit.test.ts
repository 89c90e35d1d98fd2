/**
 * The forms of copy-chain.ts (ADD, owners, a .dockerignore) and scratch-chain.ts against
 * a real buildkitd (src/testing/buildkit.ts) and docker-registry, both ways:
 * a build with a .dockerignore (a directory COPY and `COPY .` without what it
 * excludes; src/sub excluded but for src/sub/b.txt, an exception), WORKDIR under USER (by name, by id), USER/ENV/LABEL between
 * steps, ADD of a local file, of a tar archive (unpacked), with --chmod and
 * --chown; and two stages on scratch (a COPY first, a WORKDIR first).
 * BuildKit's cache (mode=max) → kiln on a fresh root: every such step CACHED,
 * BuildKit's files; kiln's --cache-to → a buildkitd that pruned its own cache:
 * every step reused, kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildctlReused, buildctlSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildctlDockerfile, buildkitFirst, kilnFrom, kilnThenBuildkit, type BothWaysArgs } from '../../testing/buildkit-both-ways.js';

let fx: BuildkitWithBase | undefined;
let tmp: string;
let ctx: string;

/** The targets, how many layer steps each has, and the file whose bytes say who built it. */
const TARGETS = [
  { name: 's1', steps: 3, check: 'x/f.txt', reusedByBuildkit: 3 },
  // A WORKDIR first on scratch: BuildKit exports its root record without a result (root-results.ts reads it from
  // the ADD's chain). buildkitd shows that mkdir DONE, not CACHED, from any cache, its own too (the last test): an op
  // with no input shows its cache key's computation as a step run (solver/jobs.go CacheMap), and its result is never
  // loaded when the ADD after it hits.
  { name: 's2', steps: 2, check: 'w/f.txt', reusedByBuildkit: 1 },
  { name: 'main', steps: 10, check: 'both', reusedByBuildkit: 10 },
];
const bkOut = new Map<string, string>();
const bkCache = new Map<string, string>();
/** Both tools build target `name`. */
const targetArgs = (name: string): BothWaysArgs => ({ bk: ['--opt', `target=${name}`], kiln: ['--target', name] });


before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-forms-');
  tmp = fx.tmp;
  const base = fx.base;
  ctx = path.join(tmp, 'ctx');
  for (const d of ['src/sub', 'src/keep', 'tt']) mkdirSync(path.join(ctx, d), { recursive: true });
  writeFileSync(path.join(ctx, 'f.txt'), 'from the context\n');
  writeFileSync(path.join(ctx, 'src', 'a.txt'), 'src a\n');
  writeFileSync(path.join(ctx, 'src', 'x.log'), 'ignored\n');
  writeFileSync(path.join(ctx, 'src', 'sub', 'b.txt'), 'kept by an exception\n');
  writeFileSync(path.join(ctx, 'src', 'sub', 'c.txt'), 'ignored too\n');
  writeFileSync(path.join(ctx, 'src', 'keep', 'k.txt'), 'kept\n');
  writeFileSync(path.join(tmp, 't.txt'), 'in the archive\n');
  execFileSync('tar', ['-C', tmp, '-cf', path.join(ctx, 'a.tar'), 't.txt']);
  rmSync(path.join(ctx, 'tt'), { recursive: true });
  writeFileSync(path.join(ctx, '.dockerignore'), 'src/sub\n!src/sub/b.txt\n**/*.log\n');
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM scratch AS s1', 'COPY f.txt /', 'WORKDIR /x', 'COPY f.txt ./',
      'FROM scratch AS s2', 'WORKDIR /w', 'ADD f.txt ./',
      `FROM ${base} AS main`, 'ENV E=1', 'LABEL l=v', 'USER nobody', 'WORKDIR /app', 'USER 1000:1000', 'WORKDIR /b', 'USER root',
      'RUN cat /proc/sys/kernel/random/uuid > /stamp', 'COPY src/ ./src/', 'ADD f.txt ./', 'ADD a.tar /t/', 'ADD --chmod=600 f.txt /c/', 'ADD --chown=1:2 f.txt /o/', 'COPY . /ctx',
      'RUN cat /stamp /b/src/a.txt /b/src/keep/k.txt /t/t.txt /c/f.txt > /both && ls /b/src /ctx /ctx/src /ctx/src/sub >> /both && echo "$E" >> /both && cat /proc/sys/kernel/random/uuid >> /both',
      '',
    ].join('\n'),
  );
  for (const t of TARGETS) {
    const r = await buildkitFirst(fx, ctx, `forms-${t.name}`, targetArgs(t.name));
    bkCache.set(t.name, r.cache);
    bkOut.set(t.name, readFileSync(path.join(r.out, t.check), 'utf8'));
  }
  assert.match(bkOut.get('main')!, /^[0-9a-f-]{36}\nsrc a\nkept\nin the archive\nfrom the context\n\/b\/src:\na.txt\nkeep\nsub\n\n\/ctx:\nDockerfile\na.tar\nf.txt\nsrc\n\n\/ctx\/src:\na.txt\nkeep\nsub\n\n\/ctx\/src\/sub:\nb.txt\n1\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await fx?.stop();
});

for (const t of TARGETS) {
  test(`BuildKit's local cache (mode=max) → kiln on a fresh root: target ${t.name}'s ${t.steps} steps CACHED, BuildKit's files`, async () => {
    const r = await kilnFrom(fx!, ctx, bkCache.get(t.name)!, `forms-${t.name}`, targetArgs(t.name));
    assertKilnTookBuildkit(r, t.steps, t.check, bkOut.get(t.name)!);
    if (t.name === 'main') {
      assert.equal(readFileSync(path.join(r.out, 't', 't.txt'), 'utf8'), 'in the archive\n');
      assert.equal(existsSync(path.join(r.out, 'ctx', 'src', 'x.log')), false);
    }
  });
}

test("kiln's export (local, mode=max) → buildkitd with no cache of its own: every step of each target reused (but s2's first mkdir), kiln's files", async () => {
  for (const t of TARGETS) {
    // Only main's RUNs write what differs between two builds.
    const bkText = t.name === 'main' ? bkOut.get('main') : undefined;
    assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, `forms-${t.name}`, targetArgs(t.name)), { shown: t.steps, reused: t.reusedByBuildkit }, t.check, bkText);
  }
});

test("BuildKit's own cache → buildkitd after prune: s2's WORKDIR first on scratch is DONE there too, the ADD CACHED (kiln's export is taken alike)", async () => {
  await fx!.bk.buildctl(['prune', '--all']);
  const r = await buildctlDockerfile(fx!, ctx, ['--opt', 'target=s2', '--import-cache', `type=local,src=${bkCache.get('s2')}`, '--output', `type=local,dest=${path.join(tmp, 'bk-again-s2')}`]);
  assert.deepEqual({ steps: buildctlSteps(r.stderr).length, reused: buildctlReused(r.stderr) }, { steps: 2, reused: 1 }, r.stderr);
  assert.match(r.stderr, /^#\d+ \[s2 1\/2\] WORKDIR \/w\n#\d+ DONE /m);
});
