/**
 * `--cache-to` of a multi-platform build: one cache holding every platform's
 * steps. Each platform's build (./platforms.ts) hands its chains and step
 * records to a PlatformCaches; once all are built, each `--cache-to`
 * location is written once, its config listing every platform's records.
 * Keys already differ by platform where the result does (a stage's base is the
 * platform's image; RUN keys hold the platform), and a step that does not
 * depend on it (a `FROM --platform=$BUILDPLATFORM` stage) is one record.
 * `type=inline` stays per platform: each image's config carries its own chain.
 */
import type { Repository } from '../registry/repository.js';
import type { CacheRecord } from './cache.js';
import type { ExportChain } from './cache-config.js';
import { chainsFor, exportStepName, exportTo } from './cache-export.js';
import type { BuildSession, BuilderDeps } from './session.js';
import type { ImageState } from './state.js';
import type { StepOp } from './buildkit-keys/stage-chain.js';
import type { BuildProgress, CacheExport } from './types.js';

/** What a platform's build hands over (BuildOptions.cacheParts). */
export interface CacheParts {
  add(s: BuildSession, built: ImageState): void;
}

export class PlatformCaches implements CacheParts {
  private readonly chains = { min: [] as ExportChain[], max: [] as ExportChain[] };
  private readonly records = new Map<string, CacheRecord>();
  private readonly mountFrom: Repository[] = [];
  private readonly bkOps = new Map<string, StepOp>();

  add(s: BuildSession, built: ImageState): void {
    this.chains.min.push(...chainsFor(s, built, 'min'));
    this.chains.max.push(...chainsFor(s, built, 'max'));
    for (const [k, r] of s.cache.used) this.records.set(k, r);
    for (const [k, op] of s.bkOps) this.bkOps.set(k, op);
    for (const r of s.cache.remote?.repositories ?? []) if (!this.mountFrom.includes(r)) this.mountFrom.push(r);
  }

  /** Writes every registry and local `--cache-to` (inline ones are in the images). */
  async write(deps: BuilderDeps, cacheTo: CacheExport[], progress: BuildProgress): Promise<void> {
    let n = 0;
    for (const to of cacheTo) {
      if (to.type === 'inline') continue;
      await exportTo(deps, to, { chains: this.chains[to.mode], records: this.records, mountFrom: this.mountFrom, bkOps: this.bkOps }, progress, { n: ++n, name: exportStepName(to) });
    }
  }
}
