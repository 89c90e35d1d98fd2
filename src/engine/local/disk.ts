/**
 * Giving disk back in the local store: what images, containers and the build
 * cache use — blobs (index.json, plus the layers of build-cache records, as
 * Docker's build cache keeps its own) and unpacked layers (every chain of
 * every image, of every container's image, of every cache record) — and the
 * prunes over it: dangling (or, with `all`, unused) images, dangling (or all)
 * build cache (../store/build-cache.ts, shared with containerd). Each ends with one collection: blobs under the store lock,
 * then unpacked layers under the same lock (src/snapshot/layer-gc.ts).
 */
import { collectGarbage } from '../../content/gc.js';
import type { LocalStore } from '../../content/layout.js';
import { withLock } from '../../util/lock.js';
import { chainIds } from '../../oci/config.js';
import type { Descriptor, ImageConfig } from '../../oci/types.js';
import { imageManifests, listLocalImages } from '../../image/resolve.js';
import { pruneLayers } from '../../snapshot/layer-gc.js';
import { listCacheRecords, type StoredCacheRecord } from '../../builder/cache-records.js';
import { ContainerStore } from './containers/store.js';

export interface Collected {
  blobsRemoved: number;
  layersRemoved: number;
  bytesFreed: number;
}

async function configOf(store: LocalStore, id: string): Promise<ImageConfig | undefined> {
  if (!(await store.content.stat(id))) return undefined;
  try {
    return JSON.parse((await store.content.readBytes(id)).toString()) as ImageConfig;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined; // `kiln system check` reports it
    throw e;
  }
}

/** Every chain ID some image, container or build-cache record uses. */
async function chainsInUse(store: LocalStore, root: string, records: StoredCacheRecord[]): Promise<Set<string>> {
  const ids = new Set((await listLocalImages(store.content, store.refs)).flatMap((i) => imageManifests(i).map((m) => m.id)));
  for (const c of await new ContainerStore(root).list()) ids.add(c.imageId);
  const chains = new Set<string>();
  for (const id of ids) for (const c of chainIds((await configOf(store, id))?.rootfs?.diff_ids ?? [])) chains.add(c);
  for (const r of records) if (r.record.chainId && r.record.layer && (await store.content.stat(r.record.layer.descriptor.digest))) chains.add(r.record.chainId);
  return chains;
}

/** Removes the blobs and the unpacked layers nothing uses; returns what that gave back. */
export async function collect(store: LocalStore, root: string): Promise<Collected> {
  const cacheLayers: Descriptor[] = (await listCacheRecords(root)).flatMap((r) => (r.record.layer ? [r.record.layer.descriptor] : []));
  const blobs = await collectGarbage(store, cacheLayers);
  const layers = await withLock(store.lockPath, async () => pruneLayers(root, await chainsInUse(store, root, await listCacheRecords(root))), { what: `kiln store ${root}` });
  return { blobsRemoved: blobs.removed.length, layersRemoved: layers.removed.length, bytesFreed: blobs.bytesFreed + layers.bytesFreed };
}

/**
 * Images without a name (or, with `all`, every image) that no container
 * uses, as `docker image prune [-a]`; returns their IDs. The caller collects.
 */
export async function pruneImages(store: LocalStore, root: string, opts: { all?: boolean } = {}): Promise<string[]> {
  const used = new Set((await new ContainerStore(root).list()).map((c) => c.imageId));
  const deleted: string[] = [];
  for (const image of await listLocalImages(store.content, store.refs)) {
    if (imageManifests(image).some((m) => used.has(m.id)) || (image.refs.length > 0 && !opts.all)) continue;
    for (const r of image.refs) await store.refs.delete(r.name);
    if (image.refs.length === 0) await store.refs.forget(image.target.descriptor.digest);
    if (!deleted.includes(image.id)) deleted.push(image.id);
  }
  return deleted;
}
