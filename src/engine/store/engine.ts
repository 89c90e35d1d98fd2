/**
 * The Engine's image calls, written once over an ImageStore: pull, push, tag,
 * images, inspect, history, save, import, commit and build. A backend opens its
 * stores, spreads these in and adds or replaces what only it can do (the
 * local backend records events and checks containers before rmi; containerd
 * keeps its own image records for tag, rmi and load).
 */
import type { Readable, Writable } from 'node:stream';
import type { RegistryClient } from '../../registry/client.js';
import type { SaveItem } from '../../image/archive/save.js';
import type { ImageStore } from '../../image/store.js';
import { imageHistory, inspectImage, listImages } from '../../image/list.js';
import { tagImage } from '../../image/remove.js';
import { resolveImage } from '../../image/resolve.js';
import { failedPrecondition } from '../../errors.js';
import type { BuildResult, Engine } from '../engine.js';
import type { Codec } from '../../layer/compress.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';

export interface StoreEngineOptions {
  /** The registry client, loaded on first use (`kiln images` should not pay for node:http). */
  registry: () => Promise<RegistryClient>;
  /** Where builds keep their scratch; without it, builds are refused. */
  buildRoot?: string;
  /** How build layers are compressed when the user does not say (containerd: none, it unpacks them on this machine). */
  buildCompression?: Codec;
  /** Told of each image action the store does not record itself (the local event log). */
  onImageEvent?(action: 'save' | 'import' | 'build', id: string, names: string[]): Promise<void>;
}

export type StoreImageCalls = Pick<Engine, 'pull' | 'push' | 'tag' | 'listImages' | 'inspectImage' | 'history' | 'save' | 'importRootfs' | 'build'> & Required<Pick<Engine, 'commitImage'>> & {
  /** Blobs and their bytes, for `kiln system info`. */
  usage(): Promise<{ images: number; blobs: number; bytes: number }>;
};

export function storeEngine(store: ImageStore, opts: StoreEngineOptions): StoreImageCalls {
  const event = opts.onImageEvent ?? (async () => undefined);
  return {
    async usage() {
      let blobs = 0;
      let bytes = 0;
      for await (const b of store.content.list()) {
        blobs++;
        bytes += b.size;
      }
      return { images: (await listImages(store)).length, blobs, bytes };
    },
    pull: async (ref, o) => (await import('../../image/pull.js')).pullImage(store, await opts.registry(), ref, o),
    push: async (ref, o) => (await import('../../image/push.js')).pushImage(store, await opts.registry(), ref, o),
    tag: (source, target) => tagImage(store, source, target),
    listImages: (o) => listImages(store, o),
    inspectImage: (ref) => inspectImage(store, ref),
    history: (ref) => imageHistory(store, ref),
    async save(refs: string[], out: Writable, o) {
      const items: SaveItem[] = [];
      const saved: [string, string[]][] = [];
      for (const r of refs) {
        const image = await resolveImage(store.content, store.refs, r);
        const names = image.refs.map((x) => x.name).filter((n) => !n.includes('@'));
        // A docker archive holds one platform of an index: the one the image stands for here (`inspect` shows it).
        const descriptor = (o?.format ?? 'docker') === 'docker' ? image.manifest.descriptor : image.target.descriptor;
        if (names.length === 0) items.push({ descriptor });
        for (const name of names) items.push({ name, descriptor });
        saved.push([image.id, names]);
      }
      const { saveArchive } = await import('../../image/archive/save.js');
      await saveArchive(store.content, items, out, { format: o?.format ?? 'docker' });
      for (const [id, names] of saved) await event('save', id, names);
    },
    async importRootfs(input: Readable, o) {
      const id = await (await import('../../image/import.js')).importRootfs(store, input, o);
      await event('import', id, o?.reference ? [formatReference(parseNormalizedNamed(o.reference))] : []);
      return id;
    },
    commitImage: async (input) => (await import('../../image/commit.js')).commitImage(store, input),
    async build(o): Promise<BuildResult> {
      const root = opts.buildRoot;
      if (!root) throw failedPrecondition('this engine was opened without a work directory for builds', { hint: 'pass --root DIR' });
      const r = await (await import('./build.js')).buildWith(store, { root, registry: opts.registry }, { ...o, compression: o.compression ?? opts.buildCompression });
      await event('build', r.id, r.tags);
      return r;
    },
  };
}
