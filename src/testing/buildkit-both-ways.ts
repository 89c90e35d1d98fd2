/**
 * The two directions a BuildKit-format cache is proved in, for a context
 * (its Dockerfile inside) on a buildkit-base.ts fixture, through caches in
 * mode=max (a local directory; with `registry`, a registry too):
 *   buildkitFirst   buildctl builds it, exporting its cache and the result's files
 *   kilnFrom        kiln builds it on a fresh root with --cache-from that cache
 *   kilnThenBuildkit  kiln builds it with --cache-to; for each cache kiln wrote, buildkitd
 *                   prunes all its own cache, then builds it with --import-cache of that one
 * Each answers the output directory and the progress text (buildctl-steps.ts reads it);
 * assertKilnTookBuildkit and assertBuildkitTookKiln say what a user sees of each.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BuildkitWithBase } from './buildkit-base.js';
import { buildctlReused, buildctlSteps, cachedSteps, stepLines } from './buildctl-steps.js';
import { kilnOk } from './kiln.js';

export interface BuildOutput {
  out: string;
  stderr: string;
}

export interface BothWaysArgs {
  /** buildctl build's extra flags (--secret, --ssh, --allow, --opt …). */
  bk?: string[];
  /** kiln build's extra flags. */
  kiln?: string[];
  /** The caches go through the fixture's registry as well: `<registry>/cache/<name>-<tool>:max`. */
  registry?: boolean;
  /** kiln tags its build this image with an inline cache and pushes it; buildkitd imports it too. */
  inline?: string;
}

/** One buildctl build from one of kiln's caches (`from`: the --import-cache value). */
export type ImportedBuild = BuildOutput & { from: string };

/** The --cache-from/--import-cache value of a cache: a local directory, or a `type=…` value as it is. */
const cacheRef = (cache: string): string => (cache.startsWith('type=') ? cache : `type=local,src=${cache}`);

const registryCache = (fx: BuildkitWithBase, name: string, tool: string): string => `${fx.reg.host}/cache/${name}-${tool}:max`;

/** A build context `<tmp>/<name>` holding `files` (path in it → text; parent directories made): its path. */
export function writeContext(fx: BuildkitWithBase, files: Record<string, string>, name = 'ctx'): string {
  const dir = path.join(fx.tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

/** buildctl build of `ctx` with the Dockerfile frontend. */
export const buildctlDockerfile = (fx: BuildkitWithBase, ctx: string, extra: string[]) =>
  fx.bk.buildctl(['build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`, ...extra]);

/**
 * buildctl builds `ctx`, its cache exported to `<tmp>/<name>-bk-cache` (mode=max) and, with `registry`, to the
 * registry (`registryCache`: the --cache-from value).
 */
export async function buildkitFirst(fx: BuildkitWithBase, ctx: string, name: string, args: BothWaysArgs = {}): Promise<BuildOutput & { cache: string; registryCache?: string }> {
  const cache = path.join(fx.tmp, `${name}-bk-cache`);
  const out = path.join(fx.tmp, `${name}-bk-out`);
  const ref = args.registry ? registryCache(fx, name, 'bk') : undefined;
  const r = await buildctlDockerfile(fx, ctx, [
    ...(args.bk ?? []),
    '--export-cache', `type=local,dest=${cache},mode=max`,
    ...(ref ? ['--export-cache', `type=registry,ref=${ref},mode=max`] : []),
    '--output', `type=local,dest=${out}`,
  ]);
  return { cache, out, stderr: r.stderr, ...(ref ? { registryCache: `type=registry,ref=${ref}` } : {}) };
}

/** kiln builds `ctx` on a fresh root with --cache-from `cache` (a local directory, or a `type=…` value). */
export async function kilnFrom(fx: BuildkitWithBase, ctx: string, cache: string, name: string, args: BothWaysArgs = {}): Promise<BuildOutput> {
  const out = path.join(fx.tmp, `${name}-kiln-out`);
  const r = await kilnOk(['build', '--progress=plain', ...(args.kiln ?? []), '--cache-from', cacheRef(cache), '-o', `type=local,dest=${out}`, ctx], { root: path.join(fx.tmp, `${name}-kiln-fresh`) });
  return { out, stderr: r.stderr };
}

/**
 * kiln builds `ctx` with --cache-to (local, mode=max; the registry's and the inline image's with those args);
 * for each, buildkitd, its own cache pruned, builds it from that cache: `bkEach`, in that order (`bk` is the local one's).
 */
export async function kilnThenBuildkit(fx: BuildkitWithBase, ctx: string, name: string, args: BothWaysArgs = {}): Promise<{ kiln: BuildOutput; bk: ImportedBuild; bkEach: ImportedBuild[] }> {
  const cache = path.join(fx.tmp, `${name}-kiln-cache`);
  const ref = args.registry ? registryCache(fx, name, 'kiln') : undefined;
  const kilnOut = path.join(fx.tmp, `${name}-kiln-built`);
  const root = path.join(fx.tmp, `${name}-kiln-writes`);
  const k = await kilnOk([
    'build', '--progress=plain', ...(args.kiln ?? []),
    '--cache-to', `type=local,dest=${cache},mode=max`,
    ...(ref ? ['--cache-to', `type=registry,ref=${ref},mode=max`] : []),
    ...(args.inline ? ['-t', args.inline, '--cache-to', 'type=inline'] : []),
    '-o', `type=local,dest=${kilnOut}`, ctx,
  ], { root });
  if (args.inline) await kilnOk(['push', args.inline], { root });
  const bkEach: ImportedBuild[] = [];
  for (const from of [cacheRef(cache), ...(ref ? [`type=registry,ref=${ref}`] : []), ...(args.inline ? [`type=registry,ref=${args.inline}`] : [])]) {
    await fx.bk.buildctl(['prune', '--all']);
    const out = path.join(fx.tmp, `${name}-bk-from-kiln${bkEach.length === 0 ? '' : `-${bkEach.length}`}`);
    const r = await buildctlDockerfile(fx, ctx, [...(args.bk ?? []), '--import-cache', from, '--output', `type=local,dest=${out}`]);
    bkEach.push({ from, out, stderr: r.stderr });
  }
  return { kiln: { out: kilnOut, stderr: k.stderr }, bk: bkEach[0]!, bkEach };
}

/** kiln took `steps` steps from BuildKit's cache and its `file` is BuildKit's (`bkText`): nothing ran. */
export function assertKilnTookBuildkit(r: BuildOutput, steps: number, file: string, bkText: string): void {
  assert.equal(cachedSteps(r.stderr), steps, stepLines(r.stderr).join('\n'));
  assert.equal(readFileSync(path.join(r.out, file), 'utf8'), bkText, 'the layers are the ones BuildKit made: nothing ran');
}

/** How many steps buildctl shows and how many of them it reused, where they differ or the count shown matters too. */
export interface StepsShown {
  shown: number;
  reused: number;
}

/**
 * kiln ran its steps (its `file` is not `bkText`; no `bkText` where either tool writes the same bytes), and from
 * each of kiln's caches buildkitd reused `steps` steps (with a StepsShown: showed `shown` steps and reused
 * `reused`): its `file` is kiln's. Answers kiln's `file`.
 */
export function assertBuildkitTookKiln(r: { kiln: BuildOutput; bk: BuildOutput; bkEach?: ImportedBuild[] }, steps: number | StepsShown, file: string, bkText?: string): string {
  const kilnText = readFileSync(path.join(r.kiln.out, file), 'utf8');
  if (bkText !== undefined) assert.notEqual(kilnText, bkText, 'kiln ran its steps (no --cache-from)');
  for (const b of r.bkEach ?? [{ ...r.bk, from: 'local' }]) {
    if (typeof steps === 'number') assert.equal(buildctlReused(b.stderr), steps, `${b.from}: ${b.stderr}`);
    else assert.deepEqual({ shown: buildctlSteps(b.stderr).length, reused: buildctlReused(b.stderr) }, steps, `${b.from}: ${b.stderr}`);
    assert.equal(readFileSync(path.join(b.out, file), 'utf8'), kilnText, `${b.from}: BuildKit used kiln's layers`);
  }
  return kilnText;
}
