/**
 * load: a docker archive (manifest.json; layers plain or gzip tars) or an OCI
 * archive (index.json), from a file or stdin, into the local store. Blobs are
 * spooled into the store as the tar streams by (under a lease, since
 * manifest.json may come last); then images are recreated and tagged.
 */
import type { Readable } from 'node:stream';
import type { BlobInfo, ContentStore, RefStore } from '../../content/store.js';
import { dataLoss, invalidArgument, isKilnError } from '../../errors.js';
import { walkImage } from '../copy.js';
import { isManifestType, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../../oci/types.js';
import { layerDiffId } from './diffid.js';
import { fullName, nameFromAnnotations } from './names.js';
import { REF_NAME } from '../../content/refs.js';
import type { DockerManifestEntry } from './save.js';
import { blobAt, spool, type Spooled } from './spool.js';

/** Where an archive loads into: a content store, its tags, and a lease that guards what is written until tagged. */
/** What a load writes to: a store's leased view (ImageStore.withLease). */
export interface LoadTarget {
  withLease<T>(fn: (leased: LoadStore) => Promise<T>): Promise<T>;
}

interface LoadStore {
  content: ContentStore;
  refs: RefStore;
}

export interface LoadedImage {
  /** The full normalized name it was tagged as, when the archive names it. */
  name?: string;
  descriptor: Descriptor;
}

function parseJson<T>(s: Spooled, file: string): T {
  try {
    return JSON.parse(s.metadata.get(file)!.toString('utf8')) as T;
  } catch (e) {
    throw invalidArgument(`image archive: ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** A JSON blob (config, manifest) from the store, or INVALID_ARGUMENT naming it. */
async function blobJson<T>(store: LoadStore, digest: string, what: string): Promise<T> {
  const text = (await store.content.readBytes(digest)).toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw invalidArgument(`image archive: ${what} ${digest} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function need(s: Spooled, path: string, what: string): BlobInfo {
  const b = blobAt(s, path);
  if (!b) throw dataLoss(`image archive lists ${what} ${path}, but does not contain it`, { hint: 'the archive is incomplete; save it again' });
  return b;
}

const layerType = { none: MediaType.OciLayer, gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd } as const;

/** docker-archive: build an OCI manifest for each manifest.json entry, checking diff_ids. */
async function fromDockerManifest(store: LoadStore, s: Spooled): Promise<LoadedImage[]> {
  const entries = parseJson<DockerManifestEntry[]>(s, 'manifest.json');
  if (!Array.isArray(entries)) throw invalidArgument('image archive: manifest.json is not a list');
  const loaded: LoadedImage[] = [];
  for (const e of entries) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) throw invalidArgument('image archive: a manifest.json entry lacks Config or Layers');
    const configInfo = need(s, e.Config, 'config');
    const config = await blobJson<ImageConfig>(store, configInfo.digest, `config ${e.Config}`);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== e.Layers.length) {
      throw dataLoss(`image archive: config ${e.Config} lists ${diffIds.length} layers (diff_ids), manifest.json lists ${e.Layers.length}`, {
        hint: 'the archive is inconsistent; save it again',
      });
    }
    const layers: Descriptor[] = [];
    for (const [i, path] of e.Layers.entries()) {
      const info = need(s, path, 'layer');
      const { diffId, compression } = s.layers.get(info.digest) ?? (await layerDiffId(store.content, info.digest));
      if (diffId !== diffIds[i]) {
        throw dataLoss(`image archive: layer ${path} uncompresses to ${diffId}, but config ${e.Config} expects diff_id ${diffIds[i]}`, {
          hint: 'the archive is corrupt or was edited; save it again',
        });
      }
      layers.push({ mediaType: layerType[compression], digest: info.digest, size: info.size });
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configInfo.digest, size: configInfo.size },
      layers,
    };
    const m = await store.content.writeBytes(JSON.stringify(manifest));
    const descriptor: Descriptor = { mediaType: MediaType.OciManifest, digest: m.digest, size: m.size };
    const tags = e.RepoTags ?? [];
    if (tags.length === 0) loaded.push({ descriptor });
    for (const t of tags) loaded.push({ name: fullName(t), descriptor });
  }
  return loaded;
}

/** Checks, by the one walk (../copy.ts), that a manifest (or each present child of an index) has all its blobs. */
async function checkComplete(store: LoadStore, d: Descriptor): Promise<void> {
  if (!(await store.content.stat(d.digest))) {
    throw dataLoss(`image archive: index.json names ${d.digest}, but the archive does not contain it`, { hint: 'the archive is incomplete; save it again' });
  }
  const has = async (c: Descriptor) => (await store.content.stat(c.digest)) !== undefined;
  await walkImage({ descriptor: d, bytes: await store.content.readBytes(d.digest) }, {
    read: (c) => store.content.readBytes(c.digest),
    every: { has },
    blob: async (b, _kind, of) => {
      if (await has(b)) return false;
      throw dataLoss(`image archive: manifest ${of.digest} needs ${b.digest}, but the archive does not contain it`, { hint: 'the archive is incomplete; save it again' });
    },
    parallel: 1,
  }).catch((e: unknown) => {
    if (isKilnError(e, 'INVALID_ARGUMENT')) throw invalidArgument(`image archive: ${(e as Error).message}`, { cause: e });
    throw e;
  });
}

/** OCI layout inside the archive (pure OCI, or Docker ≥25): use its manifests as they are. */
async function fromOciIndex(store: LoadStore, s: Spooled): Promise<LoadedImage[]> {
  const index = parseJson<Index>(s, 'index.json');
  if (!Array.isArray(index.manifests)) throw invalidArgument('image archive: index.json has no manifests list');
  // Docker writes only the tag in ref.name; its manifest.json has the names.
  const byConfig = new Map<string, string[]>();
  if (s.metadata.has('manifest.json')) {
    for (const e of parseJson<DockerManifestEntry[]>(s, 'manifest.json')) {
      const c = blobAt(s, e.Config);
      if (c) byConfig.set(c.digest, (e.RepoTags ?? []).map(fullName));
    }
  }
  const loaded: LoadedImage[] = [];
  for (const entry of index.manifests) {
    await checkComplete(store, entry);
    const { annotations, ...descriptor } = entry;
    let names = [nameFromAnnotations(annotations, REF_NAME)].filter((n): n is string => n !== undefined);
    if (names.length === 0 && isManifestType(entry.mediaType)) {
      const m = await blobJson<Manifest>(store, entry.digest, 'manifest');
      names = byConfig.get(m.config.digest) ?? [];
    }
    if (names.length === 0) loaded.push({ descriptor });
    for (const name of names) loaded.push({ name, descriptor });
  }
  return loaded;
}

/** Each name once; an unnamed entry only for an image that has no name. */
function distinct(loaded: LoadedImage[]): LoadedImage[] {
  const named = new Set(loaded.filter((l) => l.name !== undefined).map((l) => l.descriptor.digest));
  const seen = new Set<string>();
  return loaded.filter((l) => {
    const key = l.name ?? `@${l.descriptor.digest}`;
    if (seen.has(key) || (l.name === undefined && named.has(l.descriptor.digest))) return false;
    seen.add(key);
    return true;
  });
}

/** Loads an archive stream (tar, or gzip-compressed tar) and tags the names it carries. */
export async function loadArchive(target: LoadTarget, source: Readable): Promise<LoadedImage[]> {
  return target.withLease(async (store) => {
    const s = await spool(store.content, source);
    let loaded: LoadedImage[];
    if (s.metadata.has('index.json') && s.metadata.has('oci-layout')) loaded = await fromOciIndex(store, s);
    else if (s.metadata.has('manifest.json')) loaded = await fromDockerManifest(store, s);
    else {
      throw invalidArgument('image archive has neither manifest.json nor index.json + oci-layout', {
        hint: 'give a tar file written by `docker save`, `kiln save` or `skopeo copy … docker-archive:/oci-archive:`',
      });
    }
    const result = distinct(loaded);
    for (const l of result) {
      if (l.name !== undefined) await store.refs.set(l.name, l.descriptor);
      else await store.refs.keep?.(l.descriptor);
    }
    return result;
  });
}
