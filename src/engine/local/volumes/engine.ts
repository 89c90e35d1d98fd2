/**
 * The volume calls of the local ContainerEngine: the shared calls
 * (../../volumes/calls.ts) over ROOT/volumes, "in use" read from the local
 * container records, each action in the event log.
 */
import type { ContainerEngine } from '../../containers.js';
import { volumeCalls, volumeUsers as users } from '../../volumes/calls.js';
import { VolumeStore } from '../../volumes/store.js';
import { appendEvent } from '../events.js';
import { ContainerStore } from '../containers/store.js';

const containers = (root: string) => () => new ContainerStore(root).list();

/** Volume name → the name of a container that uses it. */
export const volumeUsers = (root: string): Promise<Map<string, string>> => users({ containers: containers(root) });

export function localVolumes(root: string): Pick<ContainerEngine, 'createVolume' | 'listVolumes' | 'inspectVolume' | 'removeVolume' | 'pruneVolumes'> {
  return volumeCalls({
    store: new VolumeStore(root),
    containers: containers(root),
    event: (action, name) => appendEvent(root, { type: 'volume', action, id: name, attributes: { name } }),
  });
}
