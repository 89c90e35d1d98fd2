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
import { decodeCacheConfig, encodeCacheConfig, UNCOMPRESSED, type CacheConfig, type CacheRecordJson, type DecodedStep, type ExportChain } from './cache-config.js';

export const INLINE_CACHE_FIELD = 'moby.buildkit.cache.v0';

/** The field's value for an image whose layers are the chain's (base layers, then each step's). */
export function inlineCacheValue(chain: ExportChain, records: Map<string, CacheRecord>): string {
  const { config } = encodeCacheConfig([chain], records);
  return Buffer.from(JSON.stringify(config.records ?? [])).toString('base64');
}

/** The steps an image's inline cache holds (none when its config has no such field). */
export function decodeInlineCache(manifest: Manifest, config: ImageConfig & Record<string, unknown>, where: string): Map<string, DecodedStep> {
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
  return decodeCacheConfig(cacheConfig, blobs, where);
}
