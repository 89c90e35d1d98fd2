/**
 * A cache a real buildkitd (src/testing/buildkit.ts) exports is hit by kiln on
 * a fresh root for the steps whose BuildKit keys kiln computes (FROM image,
 * WORKDIR, RUN, a plain COPY of one context file or directory: `COPY src/ ./src/`, `COPY . /ctx`): nothing runs, and the files are BuildKit's (a time stamp a
 * RUN wrote is the one BuildKit's build wrote). Through a local dir and a
 * registry cache, both mode=max. And the other way: kiln's export (local,
 * registry, inline) makes a buildkitd that pruned its own cache show every
 * step CACHED.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';
import { cachedSteps, stepLines } from '../../testing/buildctl-steps.js';

let fx: BuildkitWithBase | undefined;
let ctx: string;
let bkStamp: string;
/** BuildKit's caches: the local directory's, the registry's (--cache-from values). */
let bkCaches: { local: string; registry: string };

/** A source directory with a subdirectory, an empty one and a symlink. */
function writeSrc(dir: string): void {
  mkdirSync(path.join(dir, 'src', 'sub'), { recursive: true });
  mkdirSync(path.join(dir, 'src', 'empty'));
  writeFileSync(path.join(dir, 'src', 'a.txt'), 'src a\n');
  writeFileSync(path.join(dir, 'src', 'sub', 'b.txt'), 'src sub b\n');
  symlinkSync('a.txt', path.join(dir, 'src', 'link'));
}

/**
 * buildctl's steps taken from a cache: `CACHED`, or (the last one, whose lazy
 * layers the local exporter needs) only the pulls and extractions of those
 * layers and DONE, which buildctl prints in place of CACHED when the pull's
 * progress lands on that step. A step that ran is told apart by the files it
 * writes: both RUNs write time stamps the test compares (a COPY that ran
 * would leave the same files, so for the last COPY the count is what says it).
 */

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-hit-');
  ctx = writeContext(fx, {
    Dockerfile: `FROM ${fx.base}\nENV X=1 Y="a b"\nARG A=5\nWORKDIR /app\nRUN date +%s%N > stamp && echo "$X $Y $A" > v\nCOPY f.txt ./\nCOPY src/ ./src/\nRUN ["/bin/sh", "-c", "cat stamp v f.txt src/a.txt src/sub/b.txt > both && date +%s%N > stamp2"]\nCOPY . /ctx\nCMD ["cat", "/app/both"]\n`,
    'f.txt': 'from the context\n',
  });
  writeSrc(ctx);
  const r = await buildkitFirst(fx, ctx, 'hit', { registry: true });
  bkCaches = { local: r.cache, registry: r.registryCache! };
  bkStamp = readFileSync(path.join(r.out, 'app', 'both'), 'utf8');
  assert.match(bkStamp, /^\d+\S*\n1 a b 5\nfrom the context\nsrc a\nsrc sub b\n$/);
});

after(async () => {
  await fx?.stop();
});

for (const kind of ['local', 'registry'] as const) {
  test(`BuildKit's ${kind} cache (mode=max) → kiln on a fresh root: WORKDIR, both RUNs and the three COPYs (a file, a directory, the context) CACHED, BuildKit's files`, async () => {
    const r = await kilnFrom(fx!, ctx, bkCaches[kind], `hit-${kind}`);
    assertKilnTookBuildkit(r, 6, path.join('app', 'both'), bkStamp);
    assert.equal(readFileSync(path.join(r.out, 'ctx', 'src', 'link'), 'utf8'), 'src a\n');
  });
}

/** A copy of the test's context in tmp/NAME (its Dockerfile through `dockerfile`), then `edit` on it. */
function variantContext(name: string, dockerfile: (text: string) => string = (t) => t, fTxt = 'from the context\n', edit: (dir: string) => void = () => undefined): string {
  const other = path.join(fx!.tmp, name);
  mkdirSync(other);
  writeFileSync(path.join(other, 'Dockerfile'), dockerfile(readFileSync(path.join(ctx, 'Dockerfile'), 'utf8')));
  writeFileSync(path.join(other, 'f.txt'), fTxt);
  writeSrc(other);
  edit(other);
  return other;
}

/** kiln builds `dir` from BuildKit's local cache: how many steps it took and its /app/both. */
async function fromBuildkit(dir: string, name: string): Promise<{ cached: number; steps: string; both: string }> {
  const r = await kilnFrom(fx!, dir, bkCaches.local, name);
  return { cached: cachedSteps(r.stderr), steps: stepLines(r.stderr).join('\n'), both: readFileSync(path.join(r.out, 'app', 'both'), 'utf8') };
}

test('a changed RUN misses (and the steps before it still hit; the COPY . after it, its Dockerfile changed, misses)', async () => {
  const r = await fromBuildkit(variantContext('ctx2', (t) => t.replace('cat stamp v f.txt', 'cat v stamp f.txt')), 'changed');
  assert.equal(r.cached, 4, r.steps);
  const [stamp, v, f, a, b] = bkStamp.split('\n');
  assert.equal(r.both, `${v}\n${stamp}\n${f}\n${a}\n${b}\n`);
});

test("a COPY source whose bytes changed misses, and so does the RUN after it; the RUN before it hits", async () => {
  const r = await fromBuildkit(variantContext('ctx3', undefined, 'from the context, changed\n'), 'copy-changed');
  assert.equal(r.cached, 2, r.steps);
  const [stamp, v] = bkStamp.split('\n');
  assert.equal(r.both, `${stamp}\n${v}\nfrom the context, changed\nsrc a\nsrc sub b\n`);
});

test("kiln's export (local and registry, mode=max, and inline) → buildkitd with no cache of its own: every step CACHED, kiln's files", async () => {
  const r = await kilnThenBuildkit(fx!, ctx, 'hit', { registry: true, inline: `${fx!.reg.host}/app/kiln:inline` });
  assertBuildkitTookKiln(r, { shown: 6, reused: 6 }, path.join('app', 'both'), bkStamp);
  const kilnStamp2 = readFileSync(path.join(r.kiln.out, 'app', 'stamp2'), 'utf8');
  for (const b of r.bkEach) assert.equal(readFileSync(path.join(b.out, 'app', 'stamp2'), 'utf8'), kilnStamp2, `${b.from}: BuildKit ran neither RUN`);
});

test('a file changed deep in a COPY directory misses that COPY and what follows; the steps before it hit', async () => {
  const r = await fromBuildkit(variantContext('ctx4', undefined, undefined, (d) => writeFileSync(path.join(d, 'src', 'sub', 'b.txt'), 'src sub b, changed\n')), 'dir-changed');
  assert.equal(r.cached, 3, r.steps);
  const [stamp, v, f, a] = bkStamp.split('\n');
  assert.equal(r.both, `${stamp}\n${v}\n${f}\n${a}\nsrc sub b, changed\n`);
});
