/**
 * The containerd backend: the Engine contract over containerd's gRPC API, in
 * namespace k8s.io by default, so what kiln pulls, imports or loads is at once
 * an image the kubelet (CRI), `ctr` and `crictl` see, already unpacked into
 * the CRI's snapshotter. The image logic is the local backend's (pull, push,
 * import, inspect, history, tag, save, load), run over containerd's content
 * store and image records instead of kiln's OCI layout.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { isErrno, permissionDenied } from '../../errors.js';
import { saveArchive, type SaveItem } from '../../image/archive/save.js';
import { loadArchive } from '../../image/archive/load.js';
import { createRegistryClient } from '../../registry/client.js';
import type { Engine, EngineInfo, LoadedImage, PruneResult } from '../engine.js';
import { pullImage } from '../../image/pull.js';
import { pushImage } from '../../image/push.js';
import { importRootfs } from '../../image/import.js';
import { imageHistory, inspectImage, listImages } from '../../image/images.js';
import { resolveImage } from '../../image/resolve.js';
import type { LocalStores } from '../../image/store.js';
import { buildWith } from '../store/build.js';
import { failedPrecondition } from '../../errors.js';
import { ContainerdContentStore } from './content.js';
import { unreachable } from './errors.js';
import { ContainerdConnection } from './grpc.js';
import { withLease } from './lease.js';
import { ContainerdRefStore } from './refs.js';
import { removeImages, tagImage } from './remove.js';
import { checkImages } from './check.js';
import { containerdEvents } from './events.js';
import { containerdSnapshotter } from './snapshotter.js';
import { platformManifest, type UnpackContext } from './unpack.js';

export const DEFAULT_NAMESPACE = 'k8s.io';
export const DEFAULT_SNAPSHOTTER = 'overlayfs';

export interface ContainerdEngineOptions {
  /** The containerd socket. */
  address: string;
  /** containerd namespace (default k8s.io, the CRI's). */
  namespace?: string;
  /** Snapshotter images are unpacked into (default overlayfs, the CRI's). */
  snapshotter?: string;
  /** kiln's own directory for build scratch (step snapshots, the build cache); default: no builds. */
  workRoot?: string;
}

/** Fails with one line naming the socket when containerd cannot be used through it. */
async function checkSocket(address: string): Promise<void> {
  try {
    await access(address, constants.R_OK | constants.W_OK);
  } catch (e) {
    if (isErrno(e, 'EACCES') || isErrno(e, 'EPERM')) {
      throw permissionDenied(`containerd socket ${address} is not writable by this user`, { hint: 'run kiln as root (sudo kiln …) or as a member of the socket\'s group', cause: e });
    }
    throw unreachable(address, e);
  }
}

export async function openContainerdEngine(opts: ContainerdEngineOptions): Promise<Engine> {
  const address = opts.address;
  await checkSocket(address);
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const conn = new ContainerdConnection(address, namespace);
  let version: { version?: string; revision?: string };
  try {
    version = await conn.unary('version', 'Version', {}, 'version', 5000);
  } catch (e) {
    conn.close();
    throw unreachable(address, e);
  }
  const content = new ContainerdContentStore(conn);
  const ctx: UnpackContext = { conn, content, snapshotter: opts.snapshotter ?? DEFAULT_SNAPSHOTTER };
  const refs = new ContainerdRefStore(ctx);
  const lease = <T>(fn: () => Promise<T>) => withLease(conn, fn);
  const stores: LocalStores = {
    root: address,
    content,
    refs,
    registry: createRegistryClient(),
    withLease: lease,
    setRef: (name, d) => refs.set(name, d),
    keepUnnamed: (d) => refs.keepUnnamed(d),
    // Layers made here go straight into containerd's snapshotter: compressing them only costs time.
    layerCodec: 'none',
  };

  const engine: Engine = {
    async info(): Promise<EngineInfo> {
      let blobs = 0;
      let bytes = 0;
      for await (const b of content.list()) {
        blobs++;
        bytes += b.size;
      }
      const images = (await listImages(stores)).length;
      return { backend: 'containerd', root: address, namespace, serverVersion: version.version, snapshotter: ctx.snapshotter, images, blobs, bytes };
    },
    pull: (ref, o) => pullImage(stores, ref, o),
    push: (ref, o) => pushImage(stores, ref, o),
    tag: (source, target) => tagImage(stores, refs, source, target),
    listImages: (o) => listImages(stores, o),
    inspectImage: (ref) => inspectImage(stores, ref),
    history: (ref) => imageHistory(stores, ref),
    removeImages: (inputs, o) => removeImages(stores, refs, inputs, o),
    async save(inputs: string[], out: Writable, o) {
      const items: SaveItem[] = [];
      for (const r of inputs) {
        const image = await resolveImage(content, refs, r);
        const names = image.refs.map((x) => x.name).filter((n) => !n.includes('@'));
        if (names.length === 0) items.push({ descriptor: image.manifestDescriptor });
        for (const name of names) items.push({ name, descriptor: image.manifestDescriptor });
      }
      await saveArchive(content, items, out, { format: o?.format ?? 'docker' });
    },
    load: (input: Readable) =>
      lease(async () => {
        const loaded = await loadArchive({ content, refs, leases: { with: lease } }, input);
        const out: LoadedImage[] = [];
        for (const l of loaded) {
          const id = l.name === undefined ? await refs.keepUnnamed(l.descriptor) : (await platformManifest(ctx, l.descriptor)).manifest.config.digest;
          out.push({ ...(l.name ? { name: l.name } : {}), id });
        }
        return out;
      }),
    importRootfs: (input, o) => importRootfs(stores, input, o),
    /*
     * Builds run on containerd's own snapshots (./snapshotter.ts): the base
     * image's committed layers are the steps' lowerdirs, and each step's
     * upper dir is committed as its layer's snapshot; blobs go straight into
     * containerd's content store and the tag is a containerd image record.
     * workRoot holds the build cache, runc's state and the mount points.
     */
    build(o) {
      if (!opts.workRoot) throw failedPrecondition('this containerd engine was opened without a work directory for builds', { hint: 'pass --root DIR' });
      const snapshotter = containerdSnapshotter(ctx, path.join(opts.workRoot, 'containerd-mounts'));
      const buildStores: LocalStores = { ...stores, root: opts.workRoot, registry: stores.registry, snapshotter };
      // containerd unpacks the layers on this machine: compressing them would only cost time (DESIGN).
      return buildWith(buildStores, async () => buildStores, { ...o, compression: o.compression ?? 'none' });
    },
    async prune(): Promise<PruneResult> {
      // containerd collects what no image, lease or container references; a lease
      // deleted with sync runs that collection now, so its effect can be reported.
      let before = { n: 0, bytes: 0 };
      for await (const b of content.list()) before = { n: before.n + 1, bytes: before.bytes + b.size };
      const id = `kiln-prune-${process.pid}-${Date.now()}`;
      await conn.unary('leases', 'Create', { id, labels: {} }, `lease ${id}`);
      await conn.unary('leases', 'Delete', { id, sync: true }, `lease ${id}`);
      let after = { n: 0, bytes: 0 };
      for await (const b of content.list()) after = { n: after.n + 1, bytes: after.bytes + b.size };
      return { deletedImages: [], blobsRemoved: Math.max(0, before.n - after.n), bytesFreed: Math.max(0, before.bytes - after.bytes) };
    },
    events: (q) => containerdEvents(conn, q),
    check: () => checkImages(content, refs),
    async close() {
      await stores.registry.close();
      conn.close();
    },
  };
  return engine;
}
