/**
 * The volume calls of a ContainerEngine over a VolumeStore, written once for
 * every backend that keeps its volumes on this host (local, containerd): one
 * rule for "in use" (the backend's container records that mount a volume,
 * ../containers/volume-use.ts), which `volume rm` and `volume prune` share,
 * and each action reported to the backend's event log when it has one.
 */
import { failedPrecondition } from '../../errors.js';
import type { ContainerEngine, ContainerSpec, MountPoint, VolumeInfo } from '../containers.js';
import { namedVolumes } from '../containers/volume-use.js';
import type { Volume, VolumeStore } from './store.js';

type VolumeCalls = Pick<ContainerEngine, 'createVolume' | 'listVolumes' | 'inspectVolume' | 'removeVolume' | 'pruneVolumes'>;

export interface VolumeBackend {
  store: VolumeStore;
  /** The backend's containers (created, running or exited). */
  containers(): Promise<{ name: string; mounts: Pick<MountPoint, 'name'>[]; spec: Pick<ContainerSpec, 'volumes' | 'mounts'> }[]>;
  event?(action: 'create' | 'destroy', name: string): Promise<void>;
}

/** Volume name → the name of a container that uses it. */
export async function volumeUsers(b: Pick<VolumeBackend, 'containers'>): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  for (const r of await b.containers()) for (const v of namedVolumes(r)) used.set(v, r.name);
  return used;
}

const info = (v: Volume): VolumeInfo => ({ ...v, scope: 'local' });

export function volumeCalls(b: VolumeBackend): VolumeCalls {
  const { store } = b;
  const event = (action: 'create' | 'destroy', name: string) => b.event?.(action, name) ?? Promise.resolve();
  return {
    async createVolume(name, opts) {
      const v = await store.create(name, { labels: opts?.labels ?? {} });
      await event('create', v.name);
      return info(v);
    },
    listVolumes: async () => (await store.list()).map(info),
    inspectVolume: async (name) => info(await store.inspect(name)),
    async removeVolume(name, opts) {
      await store.inspect(name);
      const by = opts?.force ? undefined : (await volumeUsers(b)).get(name);
      if (by) throw failedPrecondition(`volume ${name} is in use by container ${by}`, { hint: `remove the container first (kiln rm ${by})` });
      await store.remove(name);
      await event('destroy', name);
      return name;
    },
    async pruneVolumes() {
      const used = await volumeUsers(b);
      const removed: string[] = [];
      for (const v of await store.list()) {
        if (used.has(v.name)) continue;
        await store.remove(v.name);
        await event('destroy', v.name);
        removed.push(v.name);
      }
      return removed;
    },
  };
}

/** `rm -v` and `--rm`: the anonymous volumes the container made (not ones its flags name). */
export async function removeAnonymousVolumes(store: VolumeStore, rec: { mounts: MountPoint[]; spec: Pick<ContainerSpec, 'volumes' | 'mounts'> }): Promise<void> {
  const named = new Set(namedVolumes({ mounts: [], spec: rec.spec }));
  for (const m of rec.mounts) {
    if (m.type === 'volume' && m.name && /^[0-9a-f]{64}$/.test(m.name) && !named.has(m.name)) await store.remove(m.name).catch(() => undefined);
  }
}
