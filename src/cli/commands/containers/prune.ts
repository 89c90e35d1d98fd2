/** What `system prune` removes besides blobs: stopped containers, and volumes no container uses. */
import type { ContainerEngine } from '../../../engine/containers.js';
import { ContainerStore } from '../../../engine/local/containers/store.js';
import { VolumeStore } from '../../../engine/local/volumes/store.js';

/** Removes every container that is not running; returns their ids. */
export async function pruneContainers(c: ContainerEngine): Promise<string[]> {
  const stopped = (await c.listContainers({ all: true })).filter((s) => s.state !== 'running');
  for (const s of stopped) await c.removeContainer(s.id);
  return stopped.map((s) => s.id);
}

/** Removes the local volumes no container record mentions; returns their names. */
export async function pruneVolumes(root: string): Promise<string[]> {
  const used = new Set<string>();
  for (const r of await new ContainerStore(root).list()) {
    for (const m of r.mounts) if (m.name) used.add(m.name);
    for (const v of r.spec.volumes ?? []) if (!v.startsWith('/') && v.includes(':')) used.add(v.split(':')[0]!);
    for (const m of r.spec.mounts ?? []) {
      const src = /(?:^|,)(?:source|src)=([^,]+)/.exec(m)?.[1];
      if (src && !src.startsWith('/')) used.add(src);
    }
  }
  const volumes = new VolumeStore(root);
  const removed: string[] = [];
  for (const v of await volumes.list()) {
    if (used.has(v.name)) continue;
    await volumes.remove(v.name);
    removed.push(v.name);
  }
  return removed;
}
