/**
 * The containerd backend: the Engine contract over containerd's gRPC API, in
 * namespace k8s.io by default, so what kiln pulls, imports or loads is at once
 * an image the kubelet (CRI), `ctr` and `crictl` see, already unpacked into
 * the CRI's snapshotter. The image calls are the image service's
 * (src/image, through ../store/engine.ts) over containerd's content store and
 * image records; tag, rmi and load keep containerd's own records.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { failedPrecondition, isErrno, permissionDenied } from '../../errors.js';
import { loadArchive } from '../../image/archive/load.js';
import type { RegistryClient } from '../../registry/client.js';
import type { Engine, EngineInfo, LoadedImage, PruneResult } from '../engine.js';
import type { ImageStore } from '../../image/store.js';
import { storeEngine } from '../store/engine.js';
import { secureRoot } from '../root-mode.js';
import { ContainerdContentStore } from './content.js';
import { unreachable } from './errors.js';
import { ContainerdConnection } from './grpc.js';
import { withLease } from './lease.js';
import { ContainerdRefStore } from './refs.js';
import { pinImages, removeImages, tagImage } from './remove.js';
import { checkImages } from './check.js';
import { containerdEvents } from './events.js';
import { containerdSnapshotter } from './snapshotter.js';
import { leasedContext, platformManifest, type UnpackContext } from './unpack.js';
import { listLocalImages } from '../../image/resolve.js';
import { containerdContainers } from './containers/engine.js';
import { CtrRecords } from './containers/records.js';
import { refuseImagesInUse } from '../containers/in-use.js';
import { resolveImage } from '../../image/resolve.js';
import { pruneBuildCache } from '../store/build-cache.js';
import { collectNow } from './gc.js';

export const DEFAULT_NAMESPACE = 'k8s.io';
export const DEFAULT_SNAPSHOTTER = 'overlayfs';

export interface ContainerdEngineOptions {
  /** The containerd socket. */
  address: string;
  /** containerd namespace (default k8s.io, the CRI's). */
  namespace?: string;
  /** Snapshotter images are unpacked into (default overlayfs, the CRI's). */
  snapshotter?: string;
  /** kiln's own directory for build scratch (step snapshots, the build cache) and containers' logs; default: no builds, no containers. */
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
  let registry: RegistryClient | undefined;
  /*
   * Builds run on containerd's own snapshots (./snapshotter.ts): the base
   * image's committed layers are the steps' lowerdirs, and each step's
   * upper dir is committed as its layer's snapshot; blobs go straight into
   * containerd's content store and the tag is a containerd image record.
   * workRoot holds the build cache, runc's state and the mount points.
   * The store is over `c`, the connection or a leased view of it (its calls carry the lease: grpc.ts).
   */
  const storeOver = (c: UnpackContext, r = new ContainerdRefStore(c)): ImageStore => {
    const view: ImageStore = {
      content: c.content,
      refs: r,
      withLease: (fn) => withLease(c.conn, async (leased) => fn(leased === c.conn ? view : storeOver(leasedContext(c, leased)))),
      setRef: (name, d) => r.set(name, d),
      keepUnnamed: (d) => r.keepUnnamed(d),
      // Layers made here go straight into containerd's snapshotter: compressing them only costs time.
      layerCodec: 'none',
      ...(opts.workRoot ? { snapshotter: () => containerdSnapshotter(c, path.join(opts.workRoot!, 'containerd-mounts')) } : {}),
    };
    return view;
  };
  const stores = storeOver(ctx, refs);
  const images = storeEngine(stores, {
    // Loaded on first use: ps, run, logs start without the registry client (node:http, yaml).
    registry: async () => (registry ??= (await import('../../registry/client.js')).createRegistryClient()),
    ...(opts.workRoot ? { buildRoot: opts.workRoot } : {}),
    // containerd unpacks the layers on this machine: compressing them would only cost time (DESIGN).
    buildCompression: 'none',
  });

  const containers = opts.workRoot ? containerdContainers({ conn, unpack: ctx, records: new CtrRecords(conn, ctx.snapshotter), workRoot: opts.workRoot }, images) : undefined;
  /**
   * Images without a name go (kubelet's images all have one: a tag or repo@digest). Never every unused
   * image (-a): on a node, pods' images are not containers kiln knows of; the kubelet's image GC owns them.
   */
  const forgetUnnamed = async (): Promise<string[]> => {
    const deleted: string[] = [];
    for (const image of (await listLocalImages(content, refs)).filter((i) => i.refs.length === 0)) {
      if (await refs.forget(image.target.descriptor.digest)) deleted.push(image.id);
    }
    return deleted;
  };
  const engine: Engine = {
    ...images,
    kind: 'containerd',
    async info(): Promise<EngineInfo> {
      return { backend: 'containerd', root: address, namespace, serverVersion: version.version, snapshotter: ctx.snapshotter, ...(await images.usage()) };
    },
    tag: (source, target) => tagImage(stores, refs, source, target),
    pin: (inputs, pinned) => pinImages(stores, refs, inputs, pinned),
    async removeImages(inputs, o) {
      if (!o?.force && containers) await refuseImagesInUse(inputs, await containers.imagesInUse(), async (r) => {
        const image = await resolveImage(content, refs, r);
        return { ids: [image.id], names: image.refs.map((n) => n.name) };
      });
      return removeImages(stores, refs, inputs, o);
    },
    load: (input: Readable) =>
      withLease(conn, async (leased) => {
        const lctx = leasedContext(ctx, leased);
        const lrefs = new ContainerdRefStore(lctx);
        const loaded = await loadArchive(storeOver(lctx, lrefs), input);
        const out: LoadedImage[] = [];
        for (const l of loaded) {
          const id = l.name === undefined ? await lrefs.keepUnnamed(l.descriptor) : (await platformManifest(lctx, l.descriptor)).manifest.config.digest;
          out.push({ ...(l.name ? { name: l.name } : {}), id });
        }
        return out;
      }),
    async build(o) {
      if (opts.workRoot) await secureRoot(opts.workRoot, ['containerd-mounts', 'build'], { workDir: true }); // the steps' roots are mounted there (../root-mode.ts)
      return images.build(o);
    },
    async prune(o): Promise<PruneResult> {
      const deletedImages = await forgetUnnamed();
      // containerd collects what no image, lease or container references: now, so its effect can be reported.
      const cache = opts.workRoot ? await pruneBuildCache(stores, opts.workRoot, { all: o?.all }) : { removed: [], bytesFreed: 0 };
      const gc = await collectNow(conn, content);
      return { deletedImages, ...gc, bytesFreed: gc.bytesFreed + cache.bytesFreed, buildCacheRemoved: cache.removed };
    },
    async pruneBuildCache(o) {
      if (!opts.workRoot) throw failedPrecondition('this engine was opened without a work directory, which holds the build cache', { hint: 'pass --root DIR' });
      const cache = await pruneBuildCache(stores, opts.workRoot, o);
      const gc = await collectNow(conn, content);
      return { removed: cache.removed, bytesFreed: cache.bytesFreed + gc.bytesFreed };
    },
    diskUsage: async () => (await import('./df.js')).containerdDiskUsage(ctx, refs, { ...(opts.workRoot ? { workRoot: opts.workRoot } : {}), ...(containers ? { containers } : {}) }),
    async pruneImages(o) {
      if (o?.all) throw failedPrecondition('image prune -a is not available on the containerd backend: the kubelet\'s image GC owns the images pods use', { hint: 'remove images by name with kiln rmi' });
      const deletedImages = await forgetUnnamed();
      return { deletedImages, ...(await collectNow(conn, content)) };
    },
    events: (q) => containerdEvents(conn, q, ctx.snapshotter),
    ...(containers ? { containers } : {}),
    check: () => checkImages(content, refs),
    async close() {
      await registry?.close();
      conn.close();
    },
  };
  return engine;
}
