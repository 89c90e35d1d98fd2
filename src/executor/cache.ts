/**
 * kaniko's remote layer cache (`--cache`, `--cache-repo`, `--cache-ttl`) on
 * the builder's registry cache (BuildKit's format, builder/remote-cache.ts):
 * the cache repository is read once at the start as a `--cache-from` and
 * written at the end as a `--cache-to ... mode=max` (every stage's steps). The
 * builder looks every step up by its key — after a miss too, unlike kaniko,
 * which stops at the first miss — and a hit streams its layer into the store
 * without running anything. Entries older than the TTL (by the time the step
 * ran) are ignored.
 */
import { invalidArgument } from '../errors.js';
import { parseDuration } from '../dockerfile/instructions/duration.js';
import { formatReference, parseReference, repositoryName } from '../name/reference.js';
import type { BuildOptions } from '../builder/types.js';

/** The tag of the cache root when `--cache-repo` names a repository without one. */
export const CACHE_TAG = 'buildcache';
/** kaniko's default `--cache-ttl`: two weeks. */
export const DEFAULT_CACHE_TTL = '336h';

export interface CacheFlags {
  /** `--cache-repo REPO[:TAG]`; default: the first destination's repository + `/cache` (as kaniko). */
  repo?: string;
  /** `--cache-ttl` as a Go duration (`6h`, `30m`, `500ms`). */
  ttl?: string;
}

/** Milliseconds of a `--cache-ttl` value, or one line why not. */
export function cacheTtlMs(ttl: string): number {
  const ns = parseDuration(ttl.trim());
  if (ns === undefined || ns <= 0) throw invalidArgument(`--cache-ttl ${ttl}: not a duration`, { hint: 'write it like 6h, 30m or 90s' });
  return ns / 1e6;
}

/** The cache root's reference: REPO:buildcache unless REPO has a tag or digest. */
export function cacheRef(flags: CacheFlags, destinations: string[]): string {
  const given = flags.repo ?? (destinations[0] !== undefined ? `${repositoryName(parseReference(destinations[0]))}/cache` : undefined);
  if (given === undefined) throw invalidArgument('--cache needs a repository for the cache', { hint: 'pass --cache-repo REGISTRY/REPO, or a --destination (its repository + /cache is used)' });
  let r;
  try {
    r = parseReference(given);
  } catch (e) {
    throw invalidArgument(`--cache-repo ${given}: not a repository name`, { cause: e, hint: 'use --cache-repo REGISTRY/REPO[:TAG]' });
  }
  return formatReference(r.tag === undefined && r.digest === undefined ? { ...r, tag: CACHE_TAG } : r);
}

/**
 * The build options of `--cache`: the repository as cache source and target. With `--reproducible`
 * every step's time is the epoch, so the TTL cannot tell old entries from new ones and is not applied.
 */
export function cacheOptions(flags: CacheFlags, destinations: string[], reproducible: boolean, now = Date.now()): Pick<BuildOptions, 'cacheFrom' | 'cacheTo'> {
  const ref = cacheRef(flags, destinations);
  const ttl = cacheTtlMs(flags.ttl ?? DEFAULT_CACHE_TTL);
  return {
    cacheFrom: [{ type: 'registry', ref, flag: '--cache-repo', ...(reproducible ? {} : { notBefore: now - ttl }) }],
    cacheTo: [{ type: 'registry', ref, mode: 'max' }],
  };
}
