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
import type { TestRegistry } from '../../testing/registry.js';
import type { TestBuildkit } from '../../testing/buildkit.js';
import { buildctlReused, buildctlSteps, cachedSteps, stepLines } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { kilnOk } from '../../testing/kiln.js';

let reg: TestRegistry;
let bk: TestBuildkit;
let fx: BuildkitWithBase | undefined;
let tmp: string;
let ctx: string;
let bkStamp: string;

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
  ({ tmp, reg, bk } = fx);
  const base = fx.base;
  ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    `FROM ${base}\nENV X=1 Y="a b"\nARG A=5\nWORKDIR /app\nRUN date +%s%N > stamp && echo "$X $Y $A" > v\nCOPY f.txt ./\nCOPY src/ ./src/\nRUN ["/bin/sh", "-c", "cat stamp v f.txt src/a.txt src/sub/b.txt > both && date +%s%N > stamp2"]\nCOPY . /ctx\nCMD ["cat", "/app/both"]\n`,
  );
  writeFileSync(path.join(ctx, 'f.txt'), 'from the context\n');
  writeSrc(ctx);
  const out = path.join(tmp, 'bk-out');
  await bk.buildctl([
    'build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`,
    '--export-cache', `type=local,dest=${path.join(tmp, 'bk-cache')},mode=max`,
    '--export-cache', `type=registry,ref=${reg.host}/cache/bk:max,mode=max`,
    '--output', `type=local,dest=${out}`,
  ]);
  bkStamp = readFileSync(path.join(out, 'app', 'both'), 'utf8');
  assert.match(bkStamp, /^\d+\S*\n1 a b 5\nfrom the context\nsrc a\nsrc sub b\n$/);
});

after(async () => {
  await fx?.stop();
});

for (const kind of ['local', 'registry'] as const) {
  test(`BuildKit's ${kind} cache (mode=max) → kiln on a fresh root: WORKDIR, both RUNs and the three COPYs (a file, a directory, the context) CACHED, BuildKit's files`, async () => {
    const from = kind === 'local' ? `type=local,src=${path.join(tmp, 'bk-cache')}` : `type=registry,ref=${reg.host}/cache/bk:max`;
    const dest = path.join(tmp, `kiln-out-${kind}`);
    const r = await kilnOk(['build', '--progress=plain', '--cache-from', from, '-o', `type=local,dest=${dest}`, ctx], { root: path.join(tmp, `fresh-${kind}`) });
    assert.equal(cachedSteps(r.stderr), 6, stepLines(r.stderr).join('\n'));
    assert.equal(readFileSync(path.join(dest, 'app', 'both'), 'utf8'), bkStamp, 'the layers are the ones BuildKit made: nothing ran');
    assert.equal(readFileSync(path.join(dest, 'ctx', 'src', 'link'), 'utf8'), 'src a\n');
  });
}

/** A copy of the test's context in tmp/NAME (its Dockerfile through `dockerfile`), then `edit` on it. */
function variantContext(name: string, dockerfile: (text: string) => string = (t) => t, fTxt = 'from the context\n', edit: (dir: string) => void = () => undefined): string {
  const other = path.join(tmp, name);
  mkdirSync(other);
  writeFileSync(path.join(other, 'Dockerfile'), dockerfile(readFileSync(path.join(ctx, 'Dockerfile'), 'utf8')));
  writeFileSync(path.join(other, 'f.txt'), fTxt);
  writeSrc(other);
  edit(other);
  return other;
}

test('a changed RUN misses (and the steps before it still hit; the COPY . after it, its Dockerfile changed, misses)', async () => {
  const other = variantContext('ctx2', (t) => t.replace('cat stamp v f.txt', 'cat v stamp f.txt'));
  const dest = path.join(tmp, 'kiln-out-changed');
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`, other], { root: path.join(tmp, 'fresh-changed') });
  assert.equal(cachedSteps(r.stderr), 4, stepLines(r.stderr).join('\n'));
  const [stamp, v, f, a, b] = bkStamp.split('\n');
  assert.equal(readFileSync(path.join(dest, 'app', 'both'), 'utf8'), `${v}\n${stamp}\n${f}\n${a}\n${b}\n`);
});

test("a COPY source whose bytes changed misses, and so does the RUN after it; the RUN before it hits", async () => {
  const other = variantContext('ctx3', undefined, 'from the context, changed\n');
  const dest = path.join(tmp, 'kiln-out-copy-changed');
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`, other], { root: path.join(tmp, 'fresh-copy-changed') });
  assert.equal(cachedSteps(r.stderr), 2, stepLines(r.stderr).join('\n'));
  const [stamp, v] = bkStamp.split('\n');
  assert.equal(readFileSync(path.join(dest, 'app', 'both'), 'utf8'), `${stamp}\n${v}\nfrom the context, changed\nsrc a\nsrc sub b\n`);
});

test("kiln's export (local and registry, mode=max, and inline) → buildkitd with no cache of its own: every step CACHED, kiln's files", async () => {
  const root = path.join(tmp, 'kiln-writes');
  const local = path.join(tmp, 'kiln-cache');
  const dest = path.join(tmp, 'kiln-built');
  const image = `${reg.host}/app/kiln:inline`;
  await kilnOk(['build', '-t', image, '--cache-to', `type=local,dest=${local},mode=max`, '--cache-to', `type=registry,ref=${reg.host}/cache/kiln:max,mode=max`, '--cache-to', 'type=inline', '-o', `type=local,dest=${dest}`, ctx], { root });
  await kilnOk(['push', image], { root });
  const kilnStamp = readFileSync(path.join(dest, 'app', 'both'), 'utf8');
  const kilnStamp2 = readFileSync(path.join(dest, 'app', 'stamp2'), 'utf8');
  assert.notEqual(kilnStamp, bkStamp, 'kiln ran its steps (no --cache-from)');
  for (const imp of [`type=local,src=${local}`, `type=registry,ref=${reg.host}/cache/kiln:max`, `type=registry,ref=${image}`]) {
    await bk.buildctl(['prune', '--all']);
    const out = path.join(tmp, `bk-from-kiln-${imp.replace(/\W/g, '_')}`);
    const r = await bk.buildctl(['build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`, '--import-cache', imp, '--output', `type=local,dest=${out}`]);
    assert.equal(buildctlSteps(r.stderr).length, 6, r.stderr);
    assert.equal(buildctlReused(r.stderr), 6, `${imp}: ${r.stderr}`);
    assert.equal(readFileSync(path.join(out, 'app', 'both'), 'utf8'), kilnStamp, `${imp}: BuildKit used kiln's layers`);
    assert.equal(readFileSync(path.join(out, 'app', 'stamp2'), 'utf8'), kilnStamp2, `${imp}: BuildKit ran neither RUN`);
  }
});

test('a file changed deep in a COPY directory misses that COPY and what follows; the steps before it hit', async () => {
  const other = variantContext('ctx4', undefined, undefined, (d) => writeFileSync(path.join(d, 'src', 'sub', 'b.txt'), 'src sub b, changed\n'));
  const dest = path.join(tmp, 'kiln-out-dir-changed');
  const r = await kilnOk(['build', '--progress=plain', '--cache-from', `type=local,src=${path.join(tmp, 'bk-cache')}`, '-o', `type=local,dest=${dest}`, other], { root: path.join(tmp, 'fresh-dir-changed') });
  assert.equal(cachedSteps(r.stderr), 3, stepLines(r.stderr).join('\n'));
  const [stamp, v, f, a] = bkStamp.split('\n');
  assert.equal(readFileSync(path.join(dest, 'app', 'both'), 'utf8'), `${stamp}\n${v}\n${f}\n${a}\nsrc sub b, changed\n`);
});
