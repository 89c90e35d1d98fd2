/**
 * What the local container engine works on, shared by the CLI process and
 * the detached monitor: the container store, the runtime's state dir
 * (`ROOT/run`: runc's root and the bundles), the snapshotter, the events log.
 */
import path from 'node:path';
import type { Snapshotter } from '../../../snapshot/snapshotter.js';
import { ContainerStore } from './store.js';

export interface ContainerContext {
  root: string;
  stateDir: string;
  store: ContainerStore;
  snapshots: Snapshotter;
}

/**
 * The snapshotter, loaded on first use (it brings the tar and compression code; ps and logs never need it).
 * Roots are volatile: a container's writable layer goes when it ends, so nothing syncs it to disk.
 */
function lazySnapshotter(root: string): Snapshotter {
  let real: Promise<Snapshotter> | undefined;
  const get = () => (real ??= import('../../../snapshot/overlay.js').then((m) => m.overlaySnapshotter(root, { volatile: true })));
  return {
    unpack: async (layers) => (await get()).unpack(layers),
    prepare: async (key, chainDir) => (await get()).prepare(key, chainDir),
    remove: async (key) => (await get()).remove(key),
  };
}

export function containerContext(root: string): ContainerContext {
  return { root, stateDir: path.join(root, 'run'), store: new ContainerStore(root), snapshots: lazySnapshotter(root) };
}

/** The snapshot key of a container's writable root. */
export const rootfsKey = (id: string): string => `container-${id}`;

/** The container's log, kept beside its record so it survives restarts. */
export const logFile = (ctx: ContainerContext, id: string): string => path.join(ctx.store.containerDir(id), 'container.log');
