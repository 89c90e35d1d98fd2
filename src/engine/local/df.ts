/**
 * `kiln system df` on the local store: images (their blobs and unpacked
 * layers, each counted once), containers (their writable layers), local
 * volumes and the build cache (what its records hold beyond the images, and
 * the cache mounts), with what a prune would give back, as Docker counts it:
 * images no container uses, containers not running, volumes no container
 * mounts, the whole build cache.
 */
import path from 'node:path';
import { chainIds } from '../../oci/config.js';
import { digestHex } from '../../oci/digest.js';
import type { LocalStore } from '../../content/layout.js';
import { imageManifests, listLocalImages } from '../../image/resolve.js';
import { bytesUnder, layerUsage } from '../../snapshot/layer-gc.js';
import { cacheMountsDir, listCacheMounts, listCacheRecords } from '../../builder/cache-records.js';
import type { DiskUsage, DiskUsageItem, DiskUsageRow } from '../engine.js';
import type { ImageConfig } from '../../oci/types.js';
import { ContainerStore } from './containers/store.js';
import { liveState } from './containers/state.js';
import { rootfsKey } from './containers/context.js';
import { VolumeStore } from '../volumes/store.js';
import { volumeUsers } from './volumes/engine.js';
import { ifExists } from '../../util/fsutil.js';
import { stat } from 'node:fs/promises';

/** What a thing holds on disk: blob digests and unpacked layer names, each with its bytes in `sizes`. */
type Holds = Set<string>;

const sum = (keys: Iterable<string>, sizes: Map<string, number>) => [...keys].reduce((n, k) => n + (sizes.get(k) ?? 0), 0);

export async function diskUsage(store: LocalStore, root: string): Promise<DiskUsage> {
  const sizes = new Map<string, number>();
  for await (const b of store.content.list()) sizes.set(b.digest, b.size);
  const { layers } = await layerUsage(root, []);
  for (const [hex, bytes] of layers) sizes.set(`layer:${hex}`, bytes);
  const items: DiskUsageItem[] = [];

  // Images.
  const containers = await new ContainerStore(root).list();
  const usedImages = new Set(containers.map((c) => c.imageId));
  const imageHolds = new Map<string, Holds>();
  for (const image of await listLocalImages(store.content, store.refs)) {
    // An index holds every stored platform's manifest, config and layers.
    const holds: Holds = new Set([image.target.descriptor.digest, ...(image.platforms ?? []).map((p) => p.descriptor.digest), ...imageManifests(image).flatMap((m) => [m.id, ...m.manifest.layers.map((l) => l.digest)])]);
    const config = (await ifExists(store.content.readBytes(image.id)).catch(() => undefined)) as Buffer | undefined;
    const diffIds = config ? ((JSON.parse(config.toString()) as ImageConfig).rootfs?.diff_ids ?? []) : [];
    for (const c of chainIds(diffIds)) if (layers.has(digestHex(c))) holds.add(`layer:${digestHex(c)}`);
    const prev = imageHolds.get(image.id);
    imageHolds.set(image.id, prev ? new Set([...prev, ...holds]) : holds);
    const created = config ? (JSON.parse(config.toString()) as ImageConfig).created : undefined;
    items.push({ type: 'Images', id: image.id, names: image.refs.map((r) => r.name), size: sum(holds, sizes), active: usedImages.has(image.id), ...(created ? { created } : {}) });
  }
  const allImages = new Set([...imageHolds.values()].flatMap((h) => [...h]));
  const activeImages = new Set([...imageHolds].filter(([id]) => usedImages.has(id)).flatMap(([, h]) => [...h]));
  const imagesRow: DiskUsageRow = {
    type: 'Images',
    total: imageHolds.size,
    active: [...imageHolds.keys()].filter((id) => usedImages.has(id)).length,
    size: sum(allImages, sizes),
    reclaimable: sum([...allImages].filter((k) => !activeImages.has(k)), sizes),
  };

  // Containers: their writable layers (a copy-mode root is all writable).
  const stateDir = path.join(root, 'run');
  const containersRow: DiskUsageRow = { type: 'Containers', total: containers.length, active: 0, size: 0, reclaimable: 0 };
  for (const c of containers) {
    const base = path.join(root, 'mounts', rootfsKey(c.id));
    const upper = (await ifExists(stat(path.join(base, 'upper')))) ? path.join(base, 'upper') : path.join(base, 'rootfs');
    const size = await bytesUnder(upper);
    const running = (await liveState(stateDir, c)).state === 'running';
    containersRow.size += size;
    if (running) containersRow.active++;
    else containersRow.reclaimable += size;
    items.push({ type: 'Containers', id: c.id, names: [c.name], size, active: running, created: c.created });
  }

  // Local volumes.
  const volumes = new VolumeStore(root);
  const users = await volumeUsers(root);
  const volumesRow: DiskUsageRow = { type: 'Local Volumes', total: 0, active: 0, size: 0, reclaimable: 0 };
  for (const v of await volumes.list()) {
    const size = await bytesUnder(volumes.dataDir(v.name));
    const used = users.has(v.name);
    volumesRow.total++;
    volumesRow.size += size;
    if (used) volumesRow.active++;
    else volumesRow.reclaimable += size;
    items.push({ type: 'Local Volumes', id: v.name, names: [v.name], size, active: used, created: v.createdAt });
  }

  // Build cache: what its records hold that no image does, and the cache mounts.
  const cacheRow: DiskUsageRow = { type: 'Build Cache', total: 0, active: 0, size: 0, reclaimable: 0 };
  const cacheHolds: Holds = new Set();
  for (const r of await listCacheRecords(root)) {
    const own: Holds = new Set();
    if (r.record.layer && sizes.has(r.record.layer.descriptor.digest)) own.add(r.record.layer.descriptor.digest);
    if (r.record.chainId && layers.has(digestHex(r.record.chainId))) own.add(`layer:${digestHex(r.record.chainId)}`);
    const beyond = [...own].filter((k) => !allImages.has(k));
    for (const k of beyond) cacheHolds.add(k);
    cacheRow.total++;
    items.push({ type: 'Build Cache', id: r.id, names: [], size: sum(beyond, sizes), active: false, created: r.modified.toISOString() });
  }
  cacheRow.size = sum(cacheHolds, sizes);
  for (const m of await listCacheMounts(root)) {
    const size = await bytesUnder(path.join(cacheMountsDir(root), m));
    cacheRow.total++;
    cacheRow.size += size;
    items.push({ type: 'Build Cache', id: `mount:${m}`, names: [], size, active: false });
  }
  cacheRow.reclaimable = cacheRow.size;
  return { rows: [imagesRow, containersRow, volumesRow, cacheRow], items };
}
