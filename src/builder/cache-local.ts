/**
 * `--cache-to type=local,dest=DIR` / `--cache-from type=local,src=DIR`: the
 * cache in an OCI image layout directory, as BuildKit's client writes it:
 * `oci-layout`, `blobs/sha256/<hex>`, and `index.json` naming the cache
 * manifest with the annotation `org.opencontainers.image.ref.name` = the tag
 * (`latest` unless `tag=` is given). A new export replaces the entry of its
 * tag; blobs of earlier exports stay.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { invalidArgument, isErrno, notFound } from '../errors.js';
import { blobPath } from '../content/digest.js';
import { pathExists, tempPath } from '../util/fsutil.js';
import { sha256Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor, Index } from '../oci/types.js';
import type { CacheLocation } from './cache-location.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const IMAGE_NAME = 'io.containerd.image.name';

const exists = pathExists;

async function atomicWrite(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPath(file);
  try {
    await write(tmp);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export function localCacheLocation(dir: string, content: ContentStore, tag = 'latest'): CacheLocation {
  const root = path.resolve(dir);
  const name = `${root}${tag === 'latest' ? '' : `:${tag}`}`;
  const indexFile = path.join(root, 'index.json');
  const readIndex = async (): Promise<Index | undefined> => {
    let text: string;
    try {
      text = await readFile(indexFile, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
      throw e;
    }
    try {
      return JSON.parse(text) as Index;
    } catch (e) {
      throw invalidArgument(`${indexFile}: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  };
  const readBlob = async (desc: Descriptor): Promise<Buffer> => {
    try {
      return await readFile(blobPath(root, desc.digest));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw notFound(`cache ${name}: blob ${desc.digest} is missing`);
      throw e;
    }
  };
  return {
    name,
    async readRoot() {
      const index = await readIndex();
      if (!index) throw notFound(`${root} is not an OCI layout with an index.json`);
      const d = (index.manifests ?? []).find((m) => m.annotations?.[IMAGE_NAME] === tag) ?? (index.manifests ?? []).find((m) => m.annotations?.[REF_NAME] === tag);
      if (!d) throw notFound(`${indexFile} names no cache tagged ${tag}`);
      const bytes = await readBlob(d);
      if (sha256Digest(bytes) !== d.digest) throw invalidArgument(`cache ${name}: blob ${d.digest} does not match its digest`);
      return { descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size }, bytes };
    },
    readBytes: readBlob,
    async fetch(desc) {
      if (await content.stat(desc.digest)) return;
      const file = blobPath(root, desc.digest);
      if (!(await exists(file))) throw notFound(`cache ${name}: blob ${desc.digest} is missing`);
      await content.ingest(createReadStream(file), { digest: desc.digest, size: desc.size });
    },
    async push(desc) {
      const file = blobPath(root, desc.digest);
      if (await exists(file)) return;
      await atomicWrite(file, async (tmp) => pipeline(await content.reader(desc.digest), createWriteStream(tmp)));
    },
    async putBytes(desc, bytes) {
      const file = blobPath(root, desc.digest);
      if (!(await exists(file))) await atomicWrite(file, (tmp) => writeFile(tmp, bytes));
    },
    async putRoot(bytes, mediaType) {
      const digest = sha256Digest(bytes);
      await this.putBytes({ mediaType, digest, size: bytes.length }, bytes);
      if (!(await exists(path.join(root, 'oci-layout')))) await writeFile(path.join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
      const index: Index = (await readIndex()) ?? { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
      index.manifests = (index.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag);
      index.manifests.push({ mediaType, digest, size: bytes.length, annotations: { [REF_NAME]: tag } });
      await atomicWrite(indexFile, (tmp) => writeFile(tmp, JSON.stringify(index)));
      return digest;
    },
  };
}
