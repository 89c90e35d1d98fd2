/**
 * `kiln system df` on containerd, from containerd's records: images (their
 * blobs in the content store and their layers' snapshots, by Snapshots.Usage,
 * each counted once), kiln's containers (the usage of each one's writable
 * snapshot), no local volumes (this backend has none) and the build cache
 * (the step records under --root: what their layers hold that no image does,
 * and the cache mounts). Reclaimable is what kiln's prunes give back here:
 * images without a name no container uses (on a node the kubelet's pods use
 * named images kiln cannot see, and `image prune -a` is refused on this
 * backend), stopped containers, the whole build cache.
 */
import path from 'node:path';
import { cacheMountsDir, listCacheMounts, listCacheRecords } from '../../builder/cache-records.js';
import { listLocalImages } from '../../image/resolve.js';
import { chainIds } from '../../oci/config.js';
import type { ImageConfig } from '../../oci/types.js';
import type { RefStore } from '../../content/store.js';
import { bytesUnder } from '../../snapshot/layer-gc.js';
import { isKilnError } from '../../errors.js';
import type { ContainerEngine } from '../containers.js';
import type { DiskUsage, DiskUsageItem, DiskUsageRow } from '../engine.js';
import type { UnpackContext } from './unpack.js';

const sum = (keys: Iterable<string>, sizes: Map<string, number>) => [...keys].reduce((n, k) => n + (sizes.get(k) ?? 0), 0);

export async function containerdDiskUsage(ctx: UnpackContext, refs: RefStore, opts: { workRoot?: string; containers?: ContainerEngine }): Promise<DiskUsage> {
  const sizes = new Map<string, number>();
  for await (const b of ctx.content.list()) sizes.set(b.digest, b.size);
  /** A snapshot's own bytes (its upper dir), 0 when containerd has none by that key. */
  const usage = async (key: string): Promise<number> => {
    try {
      const r = await ctx.conn.unary('snapshots', 'Usage', { snapshotter: ctx.snapshotter, key }, `snapshot ${key.slice(0, 19)}`);
      return Number(r.size ?? 0);
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return 0;
      throw e;
    }
  };
  const items: DiskUsageItem[] = [];
  const summaries = (await opts.containers?.listContainers({ all: true })) ?? [];
  const usedImages = new Set(summaries.map((c) => c.imageId));

  // Images.
  const holdsOf = new Map<string, Set<string>>();
  const named = new Set<string>();
  for (const image of await listLocalImages(ctx.content, refs)) {
    const holds = new Set([image.target.descriptor.digest, image.id, ...image.manifest.parsed.layers.map((l) => l.digest)]);
    const config = sizes.has(image.id) ? (JSON.parse((await ctx.content.readBytes(image.id)).toString()) as ImageConfig) : undefined;
    for (const chain of chainIds(config?.rootfs?.diff_ids ?? [])) {
      const key = `snapshot:${chain}`;
      if (!sizes.has(key)) sizes.set(key, await usage(chain));
      holds.add(key);
    }
    holdsOf.set(image.id, new Set([...(holdsOf.get(image.id) ?? []), ...holds]));
    if (image.refs.length > 0) named.add(image.id);
    items.push({ type: 'Images', id: image.id, names: image.refs.map((r) => r.name), size: sum(holds, sizes), active: usedImages.has(image.id), ...(config?.created ? { created: config.created } : {}) });
  }
  const all = new Set([...holdsOf.values()].flatMap((h) => [...h]));
  const kept = new Set([...holdsOf].filter(([id]) => usedImages.has(id) || named.has(id)).flatMap(([, h]) => [...h]));
  const imagesRow: DiskUsageRow = {
    type: 'Images',
    total: holdsOf.size,
    active: [...holdsOf.keys()].filter((id) => usedImages.has(id)).length,
    size: sum(all, sizes),
    reclaimable: sum([...all].filter((k) => !kept.has(k)), sizes),
  };

  // kiln's containers: each one's writable snapshot (named by its id).
  const containersRow: DiskUsageRow = { type: 'Containers', total: summaries.length, active: 0, size: 0, reclaimable: 0 };
  for (const c of summaries) {
    const size = await usage(c.id);
    const running = c.state === 'running';
    containersRow.size += size;
    if (running) containersRow.active++;
    else containersRow.reclaimable += size;
    items.push({ type: 'Containers', id: c.id, names: [c.name], size, active: running, created: c.created });
  }

  // Build cache: what the records' layers hold beyond the images (their blob, their chain's snapshot), and the cache mounts.
  const cacheRow: DiskUsageRow = { type: 'Build Cache', total: 0, active: 0, size: 0, reclaimable: 0 };
  if (opts.workRoot) {
    const cacheHolds = new Set<string>();
    for (const r of await listCacheRecords(opts.workRoot)) {
      const own = new Set<string>();
      if (r.record.layer && sizes.has(r.record.layer.descriptor.digest)) own.add(r.record.layer.descriptor.digest);
      if (r.record.chainId) {
        const key = `snapshot:${r.record.chainId}`;
        if (!sizes.has(key)) sizes.set(key, await usage(r.record.chainId));
        if (sizes.get(key)! > 0) own.add(key);
      }
      const beyond = [...own].filter((k) => !all.has(k));
      for (const k of beyond) cacheHolds.add(k);
      cacheRow.total++;
      items.push({ type: 'Build Cache', id: r.id, names: [], size: sum(beyond, sizes), active: false, created: r.modified.toISOString() });
    }
    cacheRow.size = sum(cacheHolds, sizes);
    for (const m of await listCacheMounts(opts.workRoot)) {
      const size = await bytesUnder(path.join(cacheMountsDir(opts.workRoot), m));
      cacheRow.total++;
      cacheRow.size += size;
      items.push({ type: 'Build Cache', id: `mount:${m}`, names: [], size, active: false });
    }
    cacheRow.reclaimable = cacheRow.size;
  }
  const volumesRow: DiskUsageRow = { type: 'Local Volumes', total: 0, active: 0, size: 0, reclaimable: 0 };
  return { rows: [imagesRow, containersRow, volumesRow, cacheRow], items };
}
