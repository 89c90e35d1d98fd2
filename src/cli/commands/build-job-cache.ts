/**
 * `kiln build --job --cache-to type=registry,ref=R [--cache-from R]`: a build Job's executor takes one
 * registry cache (`kiln executor --cache --cache-repo R`: every step looked up in R, the build's steps
 * written back to R, mode=max). Other cache types, several refs, or only --cache-from are refused in one line.
 */
import { invalidArgument } from '../../errors.js';
import { parseCacheFrom, parseCacheTo } from './build-cache-spec.js';

export function jobCacheRepo(cacheFrom: string[], cacheTo: string[]): string | undefined {
  if (cacheFrom.length === 0 && cacheTo.length === 0) return undefined;
  const hint = 'a build Job takes one registry cache: --cache-to type=registry,ref=REGISTRY/REPO:TAG (and --cache-from the same ref)';
  const refs = new Set<string>();
  for (const spec of cacheTo) {
    const c = parseCacheTo(spec);
    if (c.type !== 'registry') throw invalidArgument(`kiln build --job --cache-to ${spec}: only type=registry`, { hint });
    refs.add(c.ref);
  }
  for (const spec of cacheFrom) {
    const c = parseCacheFrom(spec);
    if (c.type !== 'registry') throw invalidArgument(`kiln build --job --cache-from ${spec}: only type=registry`, { hint });
    refs.add(c.ref);
  }
  if (cacheTo.length === 0) throw invalidArgument('kiln build --job --cache-from needs --cache-to with the same ref: the Job\'s cache is read and written', { hint });
  if (refs.size > 1) throw invalidArgument(`kiln build --job takes one cache ref, not ${[...refs].join(', ')}`, { hint });
  return [...refs][0];
}
