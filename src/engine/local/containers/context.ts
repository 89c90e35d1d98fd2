/**
 * What the local container engine works on, shared by the CLI process and
 * the detached monitor: the container store, the runtime's state dir
 * (`ROOT/run`: runc's root and the bundles), the snapshotter, the events log.
 */
import path from 'node:path';
import { flatSnapshotter } from '../../../snapshot/flat.js';
import type { Snapshotter } from '../../../snapshot/snapshotter.js';
import { ContainerStore } from './store.js';

export interface ContainerContext {
  root: string;
  stateDir: string;
  store: ContainerStore;
  snapshots: Snapshotter;
}

export function containerContext(root: string): ContainerContext {
  return { root, stateDir: path.join(root, 'run'), store: new ContainerStore(root), snapshots: flatSnapshotter(root) };
}

/** The snapshot key of a container's writable root. */
export const rootfsKey = (id: string): string => `container-${id}`;
