/**
 * kiln's stage steps → BuildKit chain names (./step.ts), with the conditions
 * under which kiln's view of a step is exactly the LLB BuildKit's Dockerfile
 * frontend makes of it; undefined ends the chain.
 */
import { PROXY_ARGS, type Instruction, type StageScope } from '../../dockerfile/index.js';
import { normalizePlatform } from '../../oci/platform.js';
import type { Platform } from '../../oci/types.js';
import { argvOf, shellOf } from '../config-step.js';
import type { CacheRecord } from '../cache.js';
import type { ImageState } from '../state.js';
import { baseChain, runChain, workdirChain } from './step.js';
import { copyChain } from './copy-chain.js';

export interface ChainContext {
  platform: Platform;
  buildArgs: Record<string, string>;
  sourceDateEpoch?: number;
  addHosts?: string[];
  /** The build context's directory (COPY sources). */
  contextDir?: string;
  /** No SOURCE_DATE_EPOCH: COPY's file op then carries no time. */
  epochFree?: boolean;
}

/** The base image's chain: none under SOURCE_DATE_EPOCH (BuildKit's ops then carry the time), nor without its registry digest. */
export function baseImageChain(ctx: ChainContext, repoDigest: string | undefined): string | undefined {
  if (ctx.sourceDateEpoch !== undefined || !repoDigest) return undefined;
  return baseChain(repoDigest, normalizePlatform(ctx.platform));
}

/** The chain after a layer step (RUN, WORKDIR, a plain COPY of one context file) on `prev`; `next` is the config after it (WORKDIR applied). */
export async function stepChain(ctx: ChainContext, prev: ImageState, next: ImageState, inst: Instruction, scope: StageScope): Promise<string | undefined> {
  const parent = prev.bkChain;
  if (!parent) return undefined;
  const c = prev.config.config ?? {};
  if (inst.kind === 'workdir') return c.User ? undefined : workdirChain(parent, next.config.config?.WorkingDir || '/');
  if (inst.kind === 'copy' || inst.kind === 'add') return ctx.contextDir !== undefined && ctx.epochFree ? copyChain(parent, inst, ctx.contextDir, c.WorkingDir || '/') : undefined;
  if (inst.kind !== 'run') return undefined;
  if (inst.mounts.length > 0 || inst.network !== 'default' || inst.security !== 'sandbox' || inst.heredocs.length > 0) return undefined;
  if ((ctx.addHosts ?? []).length > 0 || PROXY_ARGS.some((k) => Object.hasOwn(ctx.buildArgs, k))) return undefined;
  const args = argvOf(inst.command, shellOf(c));
  return runChain(parent, { args, env: scope.runEnv(), cwd: c.WorkingDir || '/', ...(c.User ? { user: c.User } : {}) }, normalizePlatform(ctx.platform));
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
