/**
 * BuildKit's inline cache (`--cache-to type=inline`): the cache records of the
 * image's own chain in its config, under `moby.buildkit.cache.v0`, as the
 * base64 of the JSON records array (Go's encoding of a byte slice). The
 * layers are the image's: layer i is the chain of the manifest's first i+1
 * layers, so a record's result index is an index into the manifest's layers.
 * The image ID changes with the field (as with BuildKit); nothing else is pushed.
 */
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';
import type { CacheRecord } from './cache.js';
import { decodeCacheConfig, encodeCacheConfig, UNCOMPRESSED, type CacheConfig, type CacheRecordJson, type ExportChain, type StepLookup, firstOf } from './cache-config.js';
import { decodeBuildkitChains } from './buildkit-keys/chains.js';
import { addBuildkitRecords } from './buildkit-keys/export.js';
import type { StepOp } from './buildkit-keys/stage-chain.js';

export const INLINE_CACHE_FIELD = 'moby.buildkit.cache.v0';

/** The field's value for an image whose layers are the chain's (base layers, then each step's). */
export function inlineCacheValue(chain: ExportChain, records: Map<string, CacheRecord>, ops?: Map<string, StepOp>): string {
  const { config } = encodeCacheConfig([chain], records);
  // BuildKit's records too, on the same layers (buildkit-keys/export.ts).
  if (ops) addBuildkitRecords(config, [chain], records, ops);
  return Buffer.from(JSON.stringify(config.records ?? [])).toString('base64');
}

/** The steps an image's inline cache holds (none when its config has no such field). */
export function decodeInlineCache(manifest: Manifest, config: ImageConfig & Record<string, unknown>, where: string): StepLookup {
  const value = config[INLINE_CACHE_FIELD];
  if (typeof value !== 'string' || manifest.layers.length !== config.rootfs.diff_ids.length) return new Map();
  let records: CacheRecordJson[];
  try {
    records = JSON.parse(Buffer.from(value, 'base64').toString()) as CacheRecordJson[];
  } catch {
    return new Map();
  }
  const blobs = new Map<string, Descriptor>();
  const cacheConfig: CacheConfig = { records, layers: [] };
  manifest.layers.forEach((l, i) => {
    const diffId = config.rootfs.diff_ids[i]!;
    blobs.set(l.digest, { ...l, annotations: { ...(l.annotations ?? {}), [UNCOMPRESSED]: diffId } });
    cacheConfig.layers!.push({ blob: l.digest, parent: i - 1 });
  });
  // kiln's keys and the chain names of BuildKit's records (buildkit-keys/chains.ts).
  return firstOf([decodeCacheConfig(cacheConfig, blobs, where), decodeBuildkitChains(cacheConfig, blobs, where)]);
}
