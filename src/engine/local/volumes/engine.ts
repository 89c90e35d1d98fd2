/**
 * The volume calls of the local ContainerEngine: named volumes under
 * ROOT/volumes, each action in the event log, and one rule for "in use"
 * (a container record that mounts it, by `-v NAME:…` or `--mount source=NAME`:
 * ../../containers/volume-use.ts), which `volume rm` and `volume prune` share.
 */
import { failedPrecondition } from '../../../errors.js';
import type { ContainerEngine, VolumeInfo } from '../../containers.js';
import { appendEvent } from '../events.js';
import { ContainerStore } from '../containers/store.js';
import { namedVolumes } from '../../containers/volume-use.js';
import { VolumeStore, type Volume } from './store.js';

type VolumeCalls = Pick<ContainerEngine, 'createVolume' | 'listVolumes' | 'inspectVolume' | 'removeVolume' | 'pruneVolumes'>;

/** Volume name → the name of a container that uses it. */
export async function volumeUsers(root: string): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  for (const r of await new ContainerStore(root).list()) for (const v of namedVolumes(r)) used.set(v, r.name);
  return used;
}

const info = (v: Volume): VolumeInfo => ({ ...v, scope: 'local' });

export function localVolumes(root: string): VolumeCalls {
  const store = new VolumeStore(root);
  const event = (action: string, name: string) => appendEvent(root, { type: 'volume', action, id: name, attributes: { name } });
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
      const by = opts?.force ? undefined : (await volumeUsers(root)).get(name);
      if (by) throw failedPrecondition(`volume ${name} is in use by container ${by}`, { hint: `remove the container first (kiln rm ${by})` });
      await store.remove(name);
      await event('destroy', name);
      return name;
    },
    async pruneVolumes() {
      const used = await volumeUsers(root);
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
