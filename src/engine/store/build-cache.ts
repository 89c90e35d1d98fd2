/**
 * `builder prune [-a]` on any ImageStore: the build cache's step records
 * (under the build root) whose layer no image uses — dangling; records without
 * a layer are kept: they only keep rebuilds' timestamps — or with `all` every
 * record and the cache mounts, as `docker builder prune [-a]`. Resolves to the
 * ids removed (cache mounts as `mount:NAME`) and the bytes of the mounts; the
 * caller then collects what the records held (blobs, layers, snapshots).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cacheMountsDir, listCacheMounts, listCacheRecords, removeCacheRecords } from '../../builder/cache-records.js';
import { imageManifests, listLocalImages } from '../../image/resolve.js';
import type { ImageStore } from '../../image/store.js';
import { bytesUnder } from '../../snapshot/layer-gc.js';

/** Layer digests of every stored image: a cache record whose layer is among them is in use. */
export async function imageLayers(store: Pick<ImageStore, 'content' | 'refs'>): Promise<Set<string>> {
  return new Set((await listLocalImages(store.content, store.refs)).flatMap((i) => imageManifests(i).flatMap((m) => m.manifest.layers.map((l) => l.digest))));
}

export async function pruneBuildCache(store: Pick<ImageStore, 'content' | 'refs'>, root: string, opts: { all?: boolean } = {}): Promise<{ removed: string[]; bytesFreed: number }> {
  const inImages = await imageLayers(store);
  const records = await listCacheRecords(root);
  const gone = records.filter((r) => opts.all || (r.record.layer && !inImages.has(r.record.layer.descriptor.digest))).map((r) => r.id);
  await removeCacheRecords(root, gone);
  let bytesFreed = 0;
  const mounts = opts.all ? await listCacheMounts(root) : [];
  for (const m of mounts) {
    bytesFreed += await bytesUnder(path.join(cacheMountsDir(root), m));
    await rm(path.join(cacheMountsDir(root), m), { recursive: true, force: true });
  }
  return { removed: [...gone, ...mounts.map((m) => `mount:${m}`)], bytesFreed };
}
