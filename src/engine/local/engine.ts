/** The local backend: kiln's own OCI-layout store under --root, registries reached directly. */
import type { Readable, Writable } from 'node:stream';
import { openStore, withLease } from '../../content/layout.js';
import { collectGarbage } from '../../content/gc.js';
import { checkStore } from '../../content/check.js';
import { saveArchive, type SaveItem } from '../../image/archive/save.js';
import { loadArchive } from '../../image/archive/load.js';
import type { RegistryClient } from '../../registry/client.js';
import type { Engine, EngineInfo, LoadedImage, PruneResult } from '../engine.js';
import { pullImage } from './pull.js';
import { pushImage } from './push.js';
import { importRootfs } from './import.js';
import { imageHistory, inspectImage, listImages, removeImages, tagImage } from './images.js';
import { readManifest, resolveImage } from './resolve.js';
import type { LocalStores } from './stores.js';
import { buildWith } from './build.js';

export async function openLocalEngine(root: string): Promise<Engine> {
  const store = await openStore(root, { create: true });
  let client: RegistryClient | undefined;
  const stores: LocalStores = {
    root,
    content: store.content,
    refs: store.refs,
    // The registry client (undici) loads on first use: local-only commands and cached builds start faster.
    get registry(): RegistryClient {
      if (!client) throw new Error('registry client used before withRegistry()');
      return client;
    },
    withLease: (fn) => withLease(store, () => fn()),
    setRef: (name, d) => store.refs.set(name, d),
  };
  const gc = () => collectGarbage(store);
  const withRegistry = async (): Promise<LocalStores> => {
    client ??= (await import('../../registry/client.js')).createRegistryClient();
    return stores;
  };

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
    pull: async (ref, opts) => pullImage(await withRegistry(), ref, opts),
    push: async (ref, opts) => pushImage(await withRegistry(), ref, opts),
    tag: (source, target) => tagImage(stores, source, target),
    listImages: (opts) => listImages(stores, opts),
    inspectImage: (ref) => inspectImage(stores, ref),
    history: (ref) => imageHistory(stores, ref),
    async removeImages(refs, opts) {
      const result = await removeImages(stores, refs, opts);
      if (result.deleted.length > 0) await gc();
      return result;
    },
    async save(refs: string[], out: Writable, opts) {
      const items: SaveItem[] = [];
      for (const r of refs) {
        const image = await resolveImage(stores.content, stores.refs, r);
        const names = image.refs.map((x) => x.name).filter((n) => !n.includes('@'));
        if (names.length === 0) items.push({ descriptor: image.manifestDescriptor });
        for (const name of names) items.push({ name, descriptor: image.manifestDescriptor });
      }
      await saveArchive(store.content, items, out, { format: opts?.format ?? 'docker' });
    },
    async load(input: Readable): Promise<LoadedImage[]> {
      const loaded = await loadArchive(store, input);
      const out: LoadedImage[] = [];
      for (const l of loaded) out.push({ ...(l.name ? { name: l.name } : {}), id: (await readManifest(store.content, l.descriptor)).config.digest });
      return out;
    },
    importRootfs: (input, opts) => importRootfs(stores, input, opts),
    build: (opts) => buildWith(stores, withRegistry, opts),
    async prune(): Promise<PruneResult> {
      const r = await gc();
      return { deletedImages: [], blobsRemoved: r.removed.length, bytesFreed: r.bytesFreed };
    },
    async check() {
      return (await checkStore(store)).map((p) => ({ kind: p.kind, subject: p.name ?? p.digest ?? p.path ?? '', message: p.message }));
    },
    close: async () => {
      await client?.close();
      await store.close();
    },
  };
  return engine;
}
