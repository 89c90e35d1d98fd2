/** The local backend: kiln's own OCI-layout store under --root, registries reached directly. */
import type { Readable } from 'node:stream';
import { openStore } from '../../content/layout.js';
import { checkStore } from '../../content/check.js';
import { rootExposure, secureRoot } from '../root-mode.js';
import type { RegistryClient } from '../../registry/client.js';
import { failedPrecondition } from '../../errors.js';
import type { Engine, EngineInfo, LoadedImage, PruneResult } from '../engine.js';
import { removeImages } from '../../image/remove.js';
import { imageManifests, readManifest, resolveImage } from '../../image/resolve.js';
import { collect, pruneImages } from './disk.js';
import { pruneBuildCache } from '../store/build-cache.js';
import { layoutImageStore } from '../../image/layout-store.js';
import { storeEngine } from '../store/engine.js';
import { ContainerStore } from './containers/store.js';
import { refuseImagesInUse, usersByImage } from '../containers/in-use.js';
import { appendEvent, appendImageEvent, readEvents } from './events.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';

/*
 * The registry client (node:http), archives (tar-stream) and layer code are
 * imported when a call needs them: `kiln images` or `kiln ps` should not pay
 * for loading what only pull, push, save and load use.
 */
export async function openLocalEngine(root: string, opts: { repairModes?: boolean } = {}): Promise<Engine> {
  const store = await openStore(root, { create: true });
  // The root's modes are made or repaired (`system check` passes repairModes: false, to report them).
  if (opts.repairModes !== false) await secureRoot(root);
  let registry: RegistryClient | undefined;
  const stores = layoutImageStore(store, { rememberCompressed: true });
  const images = storeEngine(stores, {
    registry: async () => (registry ??= (await import('../../registry/client.js')).createRegistryClient()),
    buildRoot: root,
    onImageEvent: (action, id, names) => appendImageEvent(root, action, id, names),
  });
  const gc = () => collect(store, root);
  const deletedEvents = async (ids: string[]) => {
    for (const id of ids) await appendImageEvent(root, 'delete', id);
  };

  const engine: Engine = {
    ...images,
    kind: 'local',
    async info(): Promise<EngineInfo> {
      return { backend: 'local', root, ...(await images.usage()) };
    },
    async pull(ref, opts) {
      const r = await images.pull(ref, opts);
      await appendEvent(root, { type: 'image', action: 'pull', id: r.reference, attributes: { name: r.reference, id: r.id } });
      return r;
    },
    async push(ref, opts) {
      const r = await images.push(ref, opts);
      await appendEvent(root, { type: 'image', action: 'push', id: r.reference, attributes: { name: r.reference, digest: r.digest } });
      return r;
    },
    async tag(source, target) {
      await images.tag(source, target);
      const name = formatReference(parseNormalizedNamed(target));
      await appendEvent(root, { type: 'image', action: 'tag', id: name, attributes: { name } });
    },
    async pin() {
      throw failedPrecondition('pinning keeps an image from the kubelet\'s image GC: kiln\'s own store has no kubelet', { hint: 'use --backend containerd (namespace k8s.io) or --backend kube' });
    },
    async removeImages(refs, opts) {
      if (!opts?.force) {
        await refuseImagesInUse(refs, usersByImage(await new ContainerStore(root).list()), async (r) => {
          const image = await resolveImage(stores.content, stores.refs, r);
          return { ids: [image.id, ...imageManifests(image).map((m) => m.id)], names: image.refs.map((n) => n.name) };
        });
      }
      const result = await removeImages(stores, refs, opts);
      for (const n of result.untagged) await appendEvent(root, { type: 'image', action: 'untag', id: n, attributes: { name: n } });
      for (const id of result.deleted) await appendImageEvent(root, 'delete', id);
      // Blobs and unpacked layers nothing uses any more go at once (a container or another image may keep some).
      if (result.deleted.length > 0) await gc();
      return result;
    },
    async load(input: Readable): Promise<LoadedImage[]> {
      const { loadArchive } = await import('../../image/archive/load.js');
      const loaded = await loadArchive(stores, input);
      const out: LoadedImage[] = [];
      for (const l of loaded) out.push({ ...(l.name ? { name: l.name } : {}), id: (await readManifest(store.content, l.descriptor)).config.digest });
      for (const l of out) await appendImageEvent(root, 'load', l.id, l.name ? [l.name] : []);
      return out;
    },
    events: (q) => readEvents(root, q),
    async prune(opts): Promise<PruneResult> {
      // Dangling images go first (as `docker system prune`; every unused one with --all), except those a container uses.
      const deletedImages = await pruneImages(store, root, opts);
      await deletedEvents(deletedImages);
      const buildLeftovers = await (await import('../store/leftovers.js')).clearBuildLeftovers(root);
      const cache = await pruneBuildCache(store, root, opts);
      const r = await gc();
      return { deletedImages, blobsRemoved: r.blobsRemoved, layersRemoved: r.layersRemoved, bytesFreed: r.bytesFreed + cache.bytesFreed, buildLeftovers, buildCacheRemoved: cache.removed };
    },
    async pruneImages(opts): Promise<PruneResult> {
      const deletedImages = await pruneImages(store, root, opts);
      await deletedEvents(deletedImages);
      const r = await gc();
      return { deletedImages, blobsRemoved: r.blobsRemoved, layersRemoved: r.layersRemoved, bytesFreed: r.bytesFreed };
    },
    async pruneBuildCache(opts) {
      const cache = await pruneBuildCache(store, root, opts);
      const r = await gc();
      return { removed: cache.removed, bytesFreed: cache.bytesFreed + r.bytesFreed };
    },
    diskUsage: async () => (await import('./df.js')).diskUsage(store, root),
    async check() {
      const problems = (await checkStore(store)).map((p) => ({ kind: p.kind, subject: p.name ?? p.digest ?? p.path ?? '', message: p.message, ...(p.info ? { info: true } : {}) }));
      return [...(await rootExposure(root)), ...problems, ...(await (await import('../store/leftovers.js')).buildLeftovers(root))];
    },
    close: async () => {
      await registry?.close();
      await store.close();
    },
  };
  return engine;
}
