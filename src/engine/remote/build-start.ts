/**
 * The first message of a remote build (`start_json`): the build's options
 * without what only makes sense on the client (streams, host paths, ssh
 * sockets, local outputs), the Dockerfile's text and name, the ids of the
 * secrets that follow, and the context's identity on the agent. The agent
 * reads it as hostile input: only known fields of the right types pass.
 */
import { invalidArgument } from '../../errors.js';
import type { BuildOptions } from '../../builder/types.js';
import type { CacheExport, CacheImport } from '../../builder/types.js';
import { validateContextId } from './sync/slot.js';
import type { Platform } from '../../oci/types.js';
import { formatPlatform } from '../../oci/platform.js';
import { targetPlatforms } from '../../builder/target-platforms.js';

export type RemoteBuildOptions = Pick<
  BuildOptions,
  'tags' | 'buildArgs' | 'target' | 'noCache' | 'labels' | 'network' | 'addHosts' | 'pull' | 'compression' | 'cacheFrom' | 'cacheTo' | 'sourceDateEpoch' | 'platforms'
>;

export interface BuildStart {
  /** The agent's persistent copy of this context (see sync/slot.ts). */
  contextId: string;
  dockerfileText: string;
  /** The Dockerfile's file name, for messages (`Dockerfile:3`). */
  dockerfileName: string;
  /** Ids of the `secret` messages the client sends. */
  secretIds: string[];
  /** The digest of the whole manifest (sync/manifest.ts manifestDigest). */
  manifestDigest: string;
  /** When set, the manifest is sent as changes against this earlier manifest (the last one synced). */
  manifestBase?: string;
  /**
   * The client reads an `event_json` holding an array of events (server/event-batches.ts); without it
   * (older clients) each message holds one event. Older agents ignore it and send one per message.
   */
  eventBatches?: boolean;
  options: RemoteBuildOptions;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const bad = (what: string) => invalidArgument(`remote build request refused: ${what}`, { hint: 'use a kiln client of the same version as the agent' });
const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrs = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isRecord = (v: unknown): v is Record<string, string> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(isStr);

/** The agent's reading of `start_json`. */
export function parseBuildStart(json: string): BuildStart {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw bad('the start message is not JSON');
  }
  if (typeof v !== 'object' || v === null) throw bad('the start message is not an object');
  const contextId = validateContextId(v.contextId);
  if (!isStr(v.dockerfileText)) throw bad('no Dockerfile text');
  const name = v.dockerfileName;
  if (!isStr(name) || !/^[^/\0]{1,200}$/.test(name) || name === '.' || name === '..') throw bad('bad Dockerfile name');
  if (!isStrs(v.secretIds)) throw bad('bad secret ids');
  if (!isStr(v.manifestDigest) || !DIGEST.test(v.manifestDigest)) throw bad('bad manifest digest');
  if (v.manifestBase !== undefined && (!isStr(v.manifestBase) || !DIGEST.test(v.manifestBase))) throw bad('bad manifest base');
  const o = (v.options ?? {}) as Record<string, unknown>;
  const out: RemoteBuildOptions = {};
  const strs = ['tags', 'addHosts'] as const;
  for (const k of strs) if (o[k] !== undefined) out[k] = isStrs(o[k]) ? o[k] : fail(k);
  for (const k of ['buildArgs', 'labels'] as const) if (o[k] !== undefined) out[k] = isRecord(o[k]) ? o[k] : fail(k);
  for (const k of ['noCache', 'pull'] as const) if (o[k] !== undefined) out[k] = typeof o[k] === 'boolean' ? o[k] : fail(k);
  if (o.target !== undefined) out.target = isStr(o.target) ? o.target : fail('target');
  if (o.network !== undefined) out.network = o.network === 'host' || o.network === 'none' ? o.network : fail('network');
  if (o.compression !== undefined) out.compression = o.compression === 'gzip' || o.compression === 'zstd' || o.compression === 'none' ? o.compression : fail('compression');
  if (o.sourceDateEpoch !== undefined) out.sourceDateEpoch = Number.isSafeInteger(o.sourceDateEpoch) ? (o.sourceDateEpoch as number) : fail('sourceDateEpoch');
  // The agent reads and writes registry and inline caches only: a local cache dir would be the agent's.
  if (o.cacheFrom !== undefined) {
    const ok = Array.isArray(o.cacheFrom) && o.cacheFrom.every((c: CacheImport) => c?.type === 'registry' && isStr(c.ref));
    out.cacheFrom = ok ? (o.cacheFrom as { ref: string }[]).map((c) => ({ type: 'registry', ref: c.ref })) : fail('cacheFrom');
  }
  if (o.cacheTo !== undefined) {
    const ok = Array.isArray(o.cacheTo) && o.cacheTo.every((c: CacheExport) => c?.type === 'inline' || (c?.type === 'registry' && isStr(c.ref) && (c.mode === 'min' || c.mode === 'max')));
    out.cacheTo = ok
      ? (o.cacheTo as CacheExport[]).map((c): CacheExport => (c.type === 'registry' ? { type: 'registry', ref: c.ref, mode: c.mode, ...(typeof c.imageManifest === 'boolean' ? { imageManifest: c.imageManifest } : {}) } : { type: 'inline' }))
      : fail('cacheTo');
  }
  if (o.platforms !== undefined) {
    // As strings, parsed again: only os/arch/variant of the known shape pass.
    const ok = Array.isArray(o.platforms) && o.platforms.every((p: Platform) => isStr(p?.os) && isStr(p.architecture) && (p.variant === undefined || isStr(p.variant)));
    out.platforms = ok ? targetPlatforms((o.platforms as Platform[]).map(formatPlatform)) : fail('platforms');
  }
  const base = v.manifestBase === undefined ? {} : { manifestBase: v.manifestBase as string };
  const batches = v.eventBatches === true ? { eventBatches: true } : {};
  return { contextId, dockerfileText: v.dockerfileText, dockerfileName: name, secretIds: v.secretIds, manifestDigest: v.manifestDigest, ...base, ...batches, options: out };
}

function fail(field: string): never {
  throw bad(`option ${field} has the wrong type`);
}

/** The client's side: the options that travel (BuildOptions minus the client-only parts). */
export function remoteOptions(o: BuildOptions): RemoteBuildOptions {
  const { tags, buildArgs, target, noCache, labels, network, addHosts, pull, compression, cacheFrom, cacheTo, sourceDateEpoch, platforms } = o;
  if ([...(cacheFrom ?? []), ...(cacheTo ?? [])].some((c) => c.type === 'local')) {
    throw invalidArgument('a type=local build cache is a directory on this machine, and this build runs on the agent', { hint: 'use type=registry,ref=… (or type=inline) with a remote engine' });
  }
  return JSON.parse(JSON.stringify({ tags, buildArgs, target, noCache, labels, network, addHosts, pull, compression, cacheFrom, cacheTo, sourceDateEpoch, platforms })) as RemoteBuildOptions;
}
