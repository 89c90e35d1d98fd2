/**
 * The two directions a BuildKit-format cache is proved in, for a context
 * (its Dockerfile inside) on a buildkit-base.ts fixture, through local caches
 * in mode=max:
 *   buildkitFirst   buildctl builds it, exporting its cache and the result's files
 *   kilnFrom        kiln builds it on a fresh root with --cache-from that cache
 *   kilnThenBuildkit  kiln builds it with --cache-to; buildkitd prunes all its own cache,
 *                   then builds it with --import-cache of kiln's
 * Each answers the output directory and the progress text (buildctl-steps.ts reads it);
 * assertKilnTookBuildkit and assertBuildkitTookKiln say what a user sees of each.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BuildkitWithBase } from './buildkit-base.js';
import { buildctlReused, cachedSteps, stepLines } from './buildctl-steps.js';
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
}

/** buildctl build of `ctx` with the Dockerfile frontend. */
export const buildctlDockerfile = (fx: BuildkitWithBase, ctx: string, extra: string[]) =>
  fx.bk.buildctl(['build', '--progress=plain', '--frontend', 'dockerfile.v0', '--local', `context=${ctx}`, '--local', `dockerfile=${ctx}`, ...extra]);

/** buildctl builds `ctx`, its cache exported to `<tmp>/<name>-bk-cache` (mode=max). */
export async function buildkitFirst(fx: BuildkitWithBase, ctx: string, name: string, args: BothWaysArgs = {}): Promise<BuildOutput & { cache: string }> {
  const cache = path.join(fx.tmp, `${name}-bk-cache`);
  const out = path.join(fx.tmp, `${name}-bk-out`);
  const r = await buildctlDockerfile(fx, ctx, [...(args.bk ?? []), '--export-cache', `type=local,dest=${cache},mode=max`, '--output', `type=local,dest=${out}`]);
  return { cache, out, stderr: r.stderr };
}

/** kiln builds `ctx` on a fresh root with --cache-from the local cache `cache`. */
export async function kilnFrom(fx: BuildkitWithBase, ctx: string, cache: string, name: string, args: BothWaysArgs = {}): Promise<BuildOutput> {
  const out = path.join(fx.tmp, `${name}-kiln-out`);
  const r = await kilnOk(['build', '--progress=plain', ...(args.kiln ?? []), '--cache-from', `type=local,src=${cache}`, '-o', `type=local,dest=${out}`, ctx], { root: path.join(fx.tmp, `${name}-kiln-fresh`) });
  return { out, stderr: r.stderr };
}

/** kiln builds `ctx` with --cache-to (local, mode=max); buildkitd, its own cache pruned, builds it from kiln's. */
export async function kilnThenBuildkit(fx: BuildkitWithBase, ctx: string, name: string, args: BothWaysArgs = {}): Promise<{ kiln: BuildOutput; bk: BuildOutput }> {
  const cache = path.join(fx.tmp, `${name}-kiln-cache`);
  const kilnOut = path.join(fx.tmp, `${name}-kiln-built`);
  const k = await kilnOk(['build', '--progress=plain', ...(args.kiln ?? []), '--cache-to', `type=local,dest=${cache},mode=max`, '-o', `type=local,dest=${kilnOut}`, ctx], { root: path.join(fx.tmp, `${name}-kiln-writes`) });
  await fx.bk.buildctl(['prune', '--all']);
  const out = path.join(fx.tmp, `${name}-bk-from-kiln`);
  const r = await buildctlDockerfile(fx, ctx, [...(args.bk ?? []), '--import-cache', `type=local,src=${cache}`, '--output', `type=local,dest=${out}`]);
  return { kiln: { out: kilnOut, stderr: k.stderr }, bk: { out, stderr: r.stderr } };
}

/** kiln took `steps` steps from BuildKit's cache and its `file` is BuildKit's (`bkText`): nothing ran. */
export function assertKilnTookBuildkit(r: BuildOutput, steps: number, file: string, bkText: string): void {
  assert.equal(cachedSteps(r.stderr), steps, stepLines(r.stderr).join('\n'));
  assert.equal(readFileSync(path.join(r.out, file), 'utf8'), bkText, 'the layers are the ones BuildKit made: nothing ran');
}

/** kiln ran its steps (its `file` is not `bkText`), and buildkitd reused `steps` steps from kiln's cache: its `file` is kiln's. */
export function assertBuildkitTookKiln(r: { kiln: BuildOutput; bk: BuildOutput }, steps: number, file: string, bkText: string): void {
  const kilnText = readFileSync(path.join(r.kiln.out, file), 'utf8');
  assert.notEqual(kilnText, bkText, 'kiln ran its steps (no --cache-from)');
  assert.equal(buildctlReused(r.bk.stderr), steps, r.bk.stderr);
  assert.equal(readFileSync(path.join(r.bk.out, file), 'utf8'), kilnText, "BuildKit used kiln's layers");
}
