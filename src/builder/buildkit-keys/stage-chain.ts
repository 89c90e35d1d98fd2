/**
 * kiln's stage steps → BuildKit chain names (./step.ts), with the conditions
 * under which kiln's view of a step is exactly the LLB BuildKit's Dockerfile
 * frontend makes of it; undefined ends the chain.
 */
import type { Instruction, StageScope } from '../../dockerfile/index.js';
import { buildkitPlatform } from './platform.js';
import type { Platform } from '../../oci/types.js';
import type { CacheRecord } from '../cache.js';
import type { ImageState } from '../state.js';
import { baseChain, opChain, SCRATCH_CHAIN, workdirOp, type BuildkitOp } from './step.js';
import { runStepOp } from './run-step.js';
import { copyOp, type FromChain } from './copy-chain.js';
import type { IgnoreTest } from './tree-checksum.js';
import { urlFileOp } from './url-op.js';
import { isMixed, mixedFileOp } from './copy-mixed.js';
import type { Downloaded } from '../remote.js';
import type { GitAdd } from '../git-add.js';
import { gitFileOp } from './git-op.js';
import { onScratch, workdirOpAs } from './scratch-chain.js';

export interface ChainContext {
  platform: Platform;
  buildArgs: Record<string, string>;
  sourceDateEpoch?: number;
  addHosts?: string[];
  /** The build context's directory (COPY sources). */
  contextDir?: string;
  /** The build has a .dockerignore with patterns (a RUN bind of a context directory is then not named). */
  ignoring?: boolean;
  /** The .dockerignore's test, when it has patterns (./copy-chain.ts leaves out what it excludes). */
  ignore?: IgnoreTest;
  /** ADD's downloads of URL sources, by URL (./url-op.ts). */
  downloads?: Map<string, Downloaded>;
  /** ADD's git source, resolved (./git-op.ts). */
  git?: GitAdd;
  /** A --cache-from or --cache-to may use the names; else none is computed (no COPY source is read twice). */
  wanted?: boolean;
  /** COPY --from=<stage|image>: the chain name of that state (undefined: not named). */
  fromChain?: (from: string) => Promise<FromChain | undefined>;
}

/** A scratch stage's chain (./step.ts SCRATCH_CHAIN), when names are wanted. */
export const scratchChain = (ctx: ChainContext): string | undefined => (ctx.wanted ? SCRATCH_CHAIN : undefined);

/**
 * The base image's chain: none without its registry digest, nor when no cache
 * wants it. SOURCE_DATE_EPOCH changes no key but WORKDIR's (v0.34.2: the image
 * source, RUN and COPY carry no time; mkdir carries the epoch).
 */
export function baseImageChain(ctx: ChainContext, repoDigest: string | undefined): string | undefined {
  if (!ctx.wanted || !repoDigest) return undefined;
  return baseChain(repoDigest, buildkitPlatform(ctx.platform));
}

/**
 * BuildKit's op for a layer step (RUN: ./run-step.ts, WORKDIR, COPY and ADD of local paths: ./copy-chain.ts,
 * ADD of a URL: ./url-op.ts) on `prev`, `next` being the state after it (WORKDIR applied): `op`
 * undefined is no op (WORKDIR /: the chain stays); undefined means kiln cannot
 * say (the chain stops).
 */
export async function stepOp(ctx: ChainContext, prev: ImageState, next: ImageState, inst: Instruction, scope: StageScope): Promise<{ op?: BuildkitOp } | undefined> {
  if (!prev.bkChain) return undefined;
  const c = prev.config.config ?? {};
  const scratch = onScratch(prev.bkChain);
  if (inst.kind === 'workdir') {
    // Under SOURCE_DATE_EPOCH the mkdir carries the epoch (llb.WithCreatedTime), with an owner or on scratch too.
    if (c.User || scratch) return workdirOpAs(next.config.config?.WorkingDir || '/', c.User ?? '', scratch, ctx.sourceDateEpoch);
    const op = workdirOp(next.config.config?.WorkingDir || '/', ctx.sourceDateEpoch);
    return op ? { op } : {};
  }
  if (inst.kind === 'copy' || inst.kind === 'add') {
    // COPY's and ADD's keys carry no time under SOURCE_DATE_EPOCH (dispatchCopy gives the epoch to the history only;
    // the heredoc's mkfile has none either): buildkit-epoch-hit.test.ts.
    // ADD --unpack (dockerfile 1.17) is not named: not proved against a buildkitd (the chain stops: a miss, never a wrong hit).
    if (inst.kind === 'add' && inst.unpack !== undefined) return undefined;
    if (inst.kind === 'add' && ctx.git) {
      const op = gitFileOp(inst, ctx.git, c.WorkingDir || '/', scratch);
      return op ? { op } : undefined;
    }
    if (isMixed(inst)) {
      const from = inst.kind === 'copy' && inst.from !== undefined ? await ctx.fromChain?.(inst.from) : undefined;
      const op = await mixedFileOp(inst, { ...(ctx.contextDir !== undefined ? { contextDir: ctx.contextDir } : {}), ...(ctx.ignore ? { ignore: ctx.ignore } : {}), ...(ctx.downloads ? { downloads: ctx.downloads } : {}), ...(from ? { from } : {}), cwd: c.WorkingDir || '/', onScratch: scratch });
      return op ? { op } : undefined;
    }
    if (inst.kind === 'add' && ctx.downloads?.size) {
      const op = await urlFileOp(inst, ctx.downloads, c.WorkingDir || '/', scratch);
      return op ? { op } : undefined;
    }
    if (ctx.contextDir === undefined) return undefined;
    const cwd = c.WorkingDir || '/';
    const from = inst.kind === 'copy' && inst.from !== undefined ? await ctx.fromChain?.(inst.from) : undefined;
    const op = await copyOp(inst, ctx.contextDir, cwd, { ...(ctx.ignore ? { ignore: ctx.ignore } : {}), ...(from ? { from } : {}), onScratch: scratch });
    return op ? { op } : undefined;
  }
  if (inst.kind !== 'run') return undefined;
  const op = await runStepOp({ platform: buildkitPlatform(ctx.platform), contextDir: ctx.contextDir, ignoring: ctx.ignoring, addHosts: ctx.addHosts, fromChain: ctx.fromChain, parent: prev.bkChain }, inst, scope, c);
  return op ? { op } : undefined;
}

/** A kiln step as BuildKit sees it: an op, none (WORKDIR /), or unknown (null: the chain stops). */
export type StepOp = BuildkitOp | 'none' | null;

/** The chain name after a layer step (./step.ts opChain), if kiln can name it, and the step's op. */
export async function nextChain(ctx: ChainContext, prev: ImageState, next: ImageState, inst: Instruction, scope: StageScope): Promise<{ chain?: string; op: StepOp }> {
  const s = await stepOp(ctx, prev, next, inst, scope);
  if (!s || !prev.bkChain) return { op: null };
  return s.op ? { chain: opChain(prev.bkChain, s.op), op: s.op } : { chain: prev.bkChain, op: 'none' };
}

/**
 * What a BuildKit record found by a step's chain name gives the step: its
 * layer when the chain beneath it is kiln's state (`diffIds`), nothing when
 * its whole chain is (an op that left the layers as they were), else a miss.
 */
export function buildkitStepOn(rec: CacheRecord & { below?: string[] }, diffIds: string[]): CacheRecord | undefined {
  const same = (a: string[]) => a.length === diffIds.length && a.every((d, i) => d === diffIds[i]);
  if (!rec.below || !rec.layer) return undefined;
  if (same(rec.below)) return { created: rec.created, layer: rec.layer };
  if (same([...rec.below, rec.layer.diffId])) return { created: rec.created };
  return undefined;
}
