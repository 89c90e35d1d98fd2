/**
 * save: images from a content store → a tar stream.
 *  - format 'docker' (default): what `docker save` (≥25) writes and `docker load`
 *    reads: manifest.json + repositories, and the same blobs as a valid OCI
 *    layout (oci-layout, index.json, blobs/sha256/<hex>).
 *  - format 'oci': a pure OCI image layout archive.
 * Blobs are streamed from the store into the tar, never buffered.
 */
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import * as tar from 'tar-stream';
import type { ContentStore } from '../../content/store.js';
import { REF_NAME } from '../../content/refs.js';
import { hostPlatform } from '../../oci/platform.js';
import { dataLoss, invalidArgument, isKilnError, notFound } from '../../errors.js';
import { walkImage } from '../copy.js';
import { isIndexType, isManifestType, MediaType } from '../../oci/mediatypes.js';
import type { Descriptor, Index, Manifest, Platform } from '../../oci/types.js';
import { CONTAINERD_NAME, fullName, repoAndTag, repoTag } from './names.js';


export interface SaveItem {
  /** The name to record (any form; normalized in the archive), or none for an untagged image. */
  name?: string;
  /** A manifest, or an index (docker format picks the platform's manifest from it). */
  descriptor: Descriptor;
}

export interface SaveOptions {
  format?: 'docker' | 'oci';
  /** For indexes in docker format (default: linux and this machine's architecture). */
  platform?: Platform;
}

/** One docker manifest.json entry. */
export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}


const blobName = (digest: string): string => `blobs/sha256/${digest.slice(7)}`;

async function readJson<T>(content: ContentStore, d: Descriptor): Promise<T> {
  const text = (await content.readBytes(d.digest)).toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw dataLoss(`cannot save: ${d.mediaType} ${d.digest} in the store is not valid JSON`, { hint: 'run `kiln system check`, then pull the image again', cause: e });
  }
}

function pickPlatform(index: Index, want: Platform, d: Descriptor): Descriptor {
  const found = index.manifests.find(
    (m) => m.platform?.os === want.os && m.platform.architecture === want.architecture && (!want.variant || m.platform.variant === want.variant),
  );
  if (!found) {
    throw notFound(`index ${d.digest} has no manifest for ${want.os}/${want.architecture}`, {
      hint: 'pass a platform the image has, or save in oci format to keep the whole index',
    });
  }
  return found;
}

/** Adds everything `d` reaches that the store has (the one walk, ../copy.ts), children before parents. Manifests must be complete. */
async function collect(content: ContentStore, d: Descriptor, blobs: Map<string, Descriptor>): Promise<void> {
  if (blobs.has(d.digest)) return;
  if (!isIndexType(d.mediaType) && !isManifestType(d.mediaType)) {
    throw invalidArgument(`cannot save ${d.digest}: media type ${d.mediaType} is not an image manifest or index`);
  }
  await walkImage({ descriptor: d, bytes: await content.readBytes(d.digest) }, {
    read: (c) => content.readBytes(c.digest),
    every: { has: async (c) => !blobs.has(c.digest) && (await content.stat(c.digest)) !== undefined },
    blob: async (b) => {
      blobs.set(b.digest, b);
      return false;
    },
    document: async (doc) => void blobs.set(doc.digest, doc),
    parallel: 1,
  }).catch((e: unknown) => {
    if (isKilnError(e, 'INVALID_ARGUMENT')) throw dataLoss(`cannot save: ${(e as Error).message}`, { hint: 'run `kiln system check`, then pull the image again', cause: e });
    throw e;
  });
}

interface Plan {
  blobs: Map<string, Descriptor>;
  files: { name: string; body: string }[];
}

async function plan(content: ContentStore, items: SaveItem[], opts: SaveOptions): Promise<Plan> {
  const format = opts.format ?? 'docker';
  const blobs = new Map<string, Descriptor>();
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
  const entries = new Map<string, DockerManifestEntry>();
  const repositories: Record<string, Record<string, string>> = {};
  for (const item of items) {
    let d = item.descriptor;
    if (format === 'docker' && isIndexType(d.mediaType)) d = pickPlatform(await readJson<Index>(content, d), opts.platform ?? hostPlatform(), d);
    await collect(content, d, blobs);
    const name = item.name === undefined ? undefined : fullName(item.name);
    const tag = name === undefined ? undefined : repoAndTag(name);
    const annotations: Record<string, string> = {};
    if (name !== undefined) {
      annotations[CONTAINERD_NAME] = name;
      // Docker puts the bare tag in ref.name; a pure OCI archive names the whole reference.
      annotations[REF_NAME] = format === 'docker' && tag ? tag.tag : name;
    }
    const { platform: _p, annotations: _a, ...plain } = d;
    index.manifests.push(name === undefined ? plain : { ...plain, annotations });
    if (format !== 'docker') continue;
    let entry = entries.get(d.digest);
    if (!entry) {
      const m = await readJson<Manifest>(content, d);
      entry = { Config: blobName(m.config.digest), RepoTags: [], Layers: m.layers.map((l) => blobName(l.digest)) };
      entries.set(d.digest, entry);
    }
    const rt = name === undefined ? undefined : repoTag(name);
    if (rt !== undefined && !entry.RepoTags!.includes(rt)) entry.RepoTags!.push(rt);
    if (tag && entry.Layers.length > 0) (repositories[tag.repo] ??= {})[tag.tag] = entry.Layers.at(-1)!.slice('blobs/sha256/'.length);
  }
  const files = [
    { name: 'oci-layout', body: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { name: 'index.json', body: JSON.stringify(index) },
  ];
  if (format === 'docker') {
    const list = [...entries.values()].map((e) => ({ ...e, RepoTags: e.RepoTags!.length > 0 ? e.RepoTags : null }));
    files.push({ name: 'manifest.json', body: JSON.stringify(list) });
    files.push({ name: 'repositories', body: JSON.stringify(repositories) });
  }
  return { blobs, files };
}

const header = (name: string, size?: number): Partial<tar.Header> & { name: string } =>
  size === undefined
    ? { name, type: 'directory', mode: 0o755, mtime: new Date(0) }
    : { name, size, type: 'file', mode: 0o644, mtime: new Date(0) };

function addEntry(pack: tar.Pack, h: Partial<tar.Header> & { name: string }, body?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(h, body ?? '', (err) => (err ? reject(err) : resolve()));
  });
}

async function writeEntries(content: ContentStore, pack: tar.Pack, p: Plan): Promise<void> {
  // Metadata first, so a reader streaming the archive knows what comes.
  for (const f of p.files) await addEntry(pack, header(f.name, Buffer.byteLength(f.body)), f.body);
  await addEntry(pack, header('blobs/'));
  await addEntry(pack, header('blobs/sha256/'));
  for (const d of p.blobs.values()) {
    const info = await content.stat(d.digest);
    if (!info) throw notFound(`cannot save: blob ${d.digest} is not in the store`, { hint: 'pull the image again' });
    if (info.size !== d.size) throw dataLoss(`cannot save: blob ${d.digest} has ${info.size} bytes, its descriptor says ${d.size}`, { hint: 'run `kiln system check`' });
    const entry = pack.entry(header(blobName(d.digest), info.size));
    await pipeline(await content.reader(d.digest), entry);
  }
  pack.finalize();
}

/** Writes the images to `out` as a tar archive; resolves once `out` has everything. */
export async function saveArchive(content: ContentStore, items: SaveItem[], out: Writable, opts: SaveOptions = {}): Promise<void> {
  if (items.length === 0) throw invalidArgument('nothing to save: no image given');
  const p = await plan(content, items, opts);
  const pack = tar.pack();
  const producing = writeEntries(content, pack, p).catch((e: unknown) => {
    pack.destroy(e as Error);
    throw e;
  });
  await Promise.all([producing, pipeline(pack, out)]);
}
