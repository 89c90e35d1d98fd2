/**
 * The build's side of remote caches: the locations `--cache-from` and
 * `--cache-to` name, the chains a `--cache-to` exports (min: the target's
 * state; max: every stage's), and the inline cache value for the config.
 */
import { unimplemented } from '../errors.js';
import type { CacheRecord } from './cache.js';
import type { ExportChain } from './cache-config.js';
import { inlineCacheValue } from './cache-inline.js';
import { localCacheLocation } from './cache-local.js';
import type { CacheLocation } from './cache-location.js';
import { registryCacheLocation } from './cache-registry.js';
import { exportCache } from './remote-cache.js';
import type { BuildSession, BuilderDeps } from './session.js';
import type { ImageState } from './state.js';
import type { StepOp } from './buildkit-keys/stage-chain.js';
import type { Repository } from '../registry/repository.js';
import type { BuildProgress, CacheExport, CacheImport, StepInfo } from './types.js';

async function cacheRegistry(deps: BuilderDeps) {
  if (!deps.cacheRegistry) throw unimplemented('registry build caches (--cache-from/--cache-to type=registry) are not available with this backend', { hint: 'use the local or containerd backend' });
  return deps.cacheRegistry();
}

export async function importLocations(deps: BuilderDeps, from: CacheImport[]): Promise<CacheLocation[]> {
  const out: CacheLocation[] = [];
  for (const c of from) {
    const loc = c.type === 'local' ? localCacheLocation(c.src, deps.content, c.tag) : registryCacheLocation(await cacheRegistry(deps), c.ref, '--cache-from');
    out.push({ ...loc, ...(c.notBefore !== undefined ? { notBefore: c.notBefore } : {}), ...(c.flag ? { flag: c.flag } : {}) });
  }
  return out;
}

/** A state's lineage: its base key and layers, and the keys of its steps (every one must be in `records`). */
export function chainOf(state: ImageState, records: Map<string, CacheRecord>): ExportChain | undefined {
  const steps = state.steps ?? [];
  if (state.baseKey === undefined) return undefined;
  const layered = steps.filter((k) => records.get(k)?.layer).length;
  const n = state.layers.length - layered;
  if (n < 0 || steps.some((k) => !records.has(k))) return undefined;
  const baseLayers = state.layers.slice(0, n).map((descriptor, i) => ({ descriptor, diffId: state.config.rootfs.diff_ids[i]! }));
  return { baseKey: state.baseKey, baseLayers, steps };
}

export function chainsFor(s: BuildSession, final: ImageState, mode: 'min' | 'max'): ExportChain[] {
  const states = mode === 'max' ? [...s.stageResults.values(), final] : [final];
  return states.flatMap((st) => chainOf(st, s.cache.used) ?? []);
}

/** `--cache-to type=inline`: the value of the config's `moby.buildkit.cache.v0` for the final state. */
export function inlineCache(s: BuildSession, final: ImageState): string | undefined {
  const chain = chainOf(final, s.cache.used);
  return chain ? inlineCacheValue(chain, s.cache.used, s.bkOps) : undefined;
}

/** `--cache-to type=registry|local`: the steps of the build (mode=max) or of the target's chain (mode=min). */
export async function writeCache(s: BuildSession, deps: BuilderDeps, final: ImageState, to: Exclude<CacheExport, { type: 'inline' }>): Promise<void> {
  await exportTo(deps, to, { chains: chainsFor(s, final, to.mode), records: s.cache.used, mountFrom: s.cache.remote?.repositories ?? [], bkOps: s.bkOps }, s.progress, s.step(exportStepName(to)));
}

export const exportStepName = (to: Exclude<CacheExport, { type: 'inline' }>): string => `exporting cache to ${to.type === 'registry' ? to.ref : to.dest} (mode=${to.mode})`;

/** What one `--cache-to` writes: the chains, the step records they name, and the repositories blobs may be mounted from. */
export interface CacheExportSet {
  chains: ExportChain[];
  records: Map<string, CacheRecord>;
  mountFrom: Repository[];
  /** The steps' BuildKit ops (their BuildKit cache keys), so BuildKit's records are written too. */
  bkOps?: Map<string, StepOp>;
}

/** Writes one `--cache-to` location (one step of the progress display). */
export async function exportTo(deps: BuilderDeps, to: Exclude<CacheExport, { type: 'inline' }>, set: CacheExportSet, progress: BuildProgress, step: StepInfo): Promise<void> {
  const t0 = performance.now();
  progress.emit({ kind: 'start', step });
  try {
    const loc = to.type === 'local' ? localCacheLocation(to.dest, deps.content, to.tag) : registryCacheLocation(await cacheRegistry(deps), to.ref, '--cache-to', set.mountFrom);
    await exportCache(loc, set.chains, set.records, to.imageManifest ?? true, set.bkOps);
  } catch (e) {
    progress.emit({ kind: 'error', step, seconds: (performance.now() - t0) / 1000, message: (e as Error).message });
    throw e;
  }
  progress.emit({ kind: 'done', step, seconds: (performance.now() - t0) / 1000 });
}
