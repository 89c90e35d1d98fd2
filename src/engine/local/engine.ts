/** The local backend: kiln's own OCI-layout store under --root, registries reached directly. */
import type { Readable, Writable } from 'node:stream';
import { openStore, withLease } from '../../content/layout.js';
import { collectGarbage } from '../../content/gc.js';
import { checkStore } from '../../content/check.js';
import type { SaveItem } from '../../image/archive/save.js';
import type { RegistryClient } from '../../registry/client.js';
import { failedPrecondition, internal } from '../../errors.js';
import type { Engine, EngineInfo, LoadedImage, PruneResult } from '../engine.js';
import { imageHistory, inspectImage, listImages, removeImages, tagImage } from '../../image/images.js';
import { listLocalImages, readManifest, resolveImage } from '../../image/resolve.js';
import type { LocalStores } from '../../image/store.js';
import { ContainerStore } from './containers/store.js';
import { appendEvent, appendImageEvent, readEvents } from './events.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';

/*
 * The registry client (undici), archives (tar-stream) and layer code are
 * imported when a call needs them: `kiln images` or `kiln ps` should not pay
 * for loading what only pull, push, save and load use.
 */
export async function openLocalEngine(root: string): Promise<Engine> {
  const store = await openStore(root, { create: true });
  let registry: RegistryClient | undefined;
  const withRegistry = async (): Promise<void> => {
    if (!registry) registry = (await import('../../registry/client.js')).createRegistryClient();
  };
  const stores: LocalStores = {
    root,
    content: store.content,
    refs: store.refs,
    get registry(): RegistryClient {
      if (!registry) throw internal('the registry client is used before it was loaded');
      return registry;
    },
    withLease: (fn) => withLease(store, () => fn()),
    setRef: (name, d) => store.refs.set(name, d),
    keepUnnamed: (d) => store.refs.keep(d),
  };
  const gc = () => collectGarbage(store);

  const engine: Engine = {
    async info(): Promise<EngineInfo> {
      let blobs = 0;
      let bytes = 0;
      for await (const b of store.content.list()) {
        blobs++;
        bytes += b.size;
      }
      return { backend: 'local', root, images: (await listImages(stores)).length, blobs, bytes };
    },
    async pull(ref, opts) {
      await withRegistry();
      const r = await (await import('../../image/pull.js')).pullImage(stores, ref, opts);
      await appendEvent(root, { type: 'image', action: 'pull', id: r.reference, attributes: { name: r.reference, id: r.id } });
      return r;
    },
    async push(ref, opts) {
      await withRegistry();
      const r = await (await import('../../image/push.js')).pushImage(stores, ref, opts);
      await appendEvent(root, { type: 'image', action: 'push', id: r.reference, attributes: { name: r.reference, digest: r.digest } });
      return r;
    },
    async tag(source, target) {
      await tagImage(stores, source, target);
      const name = formatReference(parseNormalizedNamed(target));
      await appendEvent(root, { type: 'image', action: 'tag', id: name, attributes: { name } });
    },
    listImages: (opts) => listImages(stores, opts),
    inspectImage: (ref) => inspectImage(stores, ref),
    history: (ref) => imageHistory(stores, ref),
    async removeImages(refs, opts) {
      if (!opts?.force) {
        const inUse = new Map<string, string[]>();
        for (const c of await new ContainerStore(root).list()) inUse.set(c.imageId, [...(inUse.get(c.imageId) ?? []), c.name]);
        for (const r of refs) {
          const image = await resolveImage(stores.content, stores.refs, r);
          const users = inUse.get(image.id);
          if (users) {
            throw failedPrecondition(`conflict: unable to remove image ${r} (${image.id.slice(7, 19)}): container ${users[0]} is using it`, {
              hint: `remove the container first (kiln rm ${users[0]}) or use kiln rmi -f`,
            });
          }
        }
      }
      const result = await removeImages(stores, refs, opts);
      for (const n of result.untagged) await appendEvent(root, { type: 'image', action: 'untag', id: n, attributes: { name: n } });
      for (const id of result.deleted) await appendImageEvent(root, 'delete', id);
      if (result.deleted.length > 0) await gc();
      return result;
    },
    async save(refs: string[], out: Writable, opts) {
      const items: SaveItem[] = [];
      const saved: [string, string[]][] = [];
      for (const r of refs) {
        const image = await resolveImage(stores.content, stores.refs, r);
        const names = image.refs.map((x) => x.name).filter((n) => !n.includes('@'));
        if (names.length === 0) items.push({ descriptor: image.manifestDescriptor });
        for (const name of names) items.push({ name, descriptor: image.manifestDescriptor });
        saved.push([image.id, names]);
      }
      const { saveArchive } = await import('../../image/archive/save.js');
      await saveArchive(store.content, items, out, { format: opts?.format ?? 'docker' });
      for (const [id, names] of saved) await appendImageEvent(root, 'save', id, names);
    },
    async load(input: Readable): Promise<LoadedImage[]> {
      const { loadArchive } = await import('../../image/archive/load.js');
      const loaded = await loadArchive(store, input);
      const out: LoadedImage[] = [];
      for (const l of loaded) out.push({ ...(l.name ? { name: l.name } : {}), id: (await readManifest(store.content, l.descriptor)).config.digest });
      for (const l of out) await appendImageEvent(root, 'load', l.id, l.name ? [l.name] : []);
      return out;
    },
    async importRootfs(input, opts) {
      const id = await (await import('../../image/import.js')).importRootfs(stores, input, opts);
      await appendImageEvent(root, 'import', id, opts?.reference ? [formatReference(parseNormalizedNamed(opts.reference))] : []);
      return id;
    },
    async build(opts) {
      const r = await (await import('../store/build.js')).buildWith(stores, async () => {
        await withRegistry();
        return stores;
      }, opts);
      await appendImageEvent(root, 'build', r.id, r.tags);
      return r;
    },
    events: (q) => readEvents(root, q),
    async prune(): Promise<PruneResult> {
      // Dangling images go first (as `docker image prune`), except those a container uses.
      const used = new Set((await new ContainerStore(root).list()).map((c) => c.imageId));
      const deletedImages: string[] = [];
      for (const image of (await listLocalImages(stores.content, stores.refs)).filter((i) => i.refs.length === 0 && !used.has(i.id))) {
        if (await store.refs.forget(image.manifestDescriptor.digest)) deletedImages.push(image.id);
      }
      for (const id of deletedImages) await appendImageEvent(root, 'delete', id);
      const buildLeftovers = await (await import('../store/leftovers.js')).clearBuildLeftovers(root);
      const r = await gc();
      return { deletedImages, blobsRemoved: r.removed.length, bytesFreed: r.bytesFreed, buildLeftovers };
    },
    async check() {
      const problems = (await checkStore(store)).map((p) => ({ kind: p.kind, subject: p.name ?? p.digest ?? p.path ?? '', message: p.message }));
      return [...problems, ...(await (await import('../store/leftovers.js')).buildLeftovers(root))];
    },
    close: async () => {
      await registry?.close();
      await store.close();
    },
  };
  return engine;
}
