/**
 * Reads an image archive tar front to back, storing every blob-like file in
 * the content store as it passes (verified against its name when the name is
 * `blobs/sha256/<hex>`) and keeping the small metadata files in memory.
 * The caller holds a lease, so spooled blobs survive GC until tagged.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { BlobInfo, ContentStore } from '../../content/store.js';
import { invalidArgument, isKilnError } from '../../errors.js';
import { type LayerDigests, withDiffId } from './diffid.js';
import { peekHead, sniffCodec } from '../../layer/compress.js';

const METADATA = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
const METADATA_LIMIT = 32 << 20;
/** Legacy per-layer files of old `docker save` output that are not blobs. */
const LEGACY = /^[a-f0-9]{64}\/(VERSION|json)$/;

export interface Spooled {
  /** manifest.json, index.json, oci-layout, repositories. */
  metadata: Map<string, Buffer>;
  /** Every other file, by archive path, as stored. */
  blobs: Map<string, BlobInfo>;
  /** Diff IDs of gzip files, computed while they streamed into the store. */
  layers: Map<string, LayerDigests>;
  /** Symlinks and hard links: archive path → the archive path they point at. */
  links: Map<string, string>;
}

export const cleanPath = (p: string): string => posix.normalize(p).replace(/^(\.\/|\/)+/, '').replace(/\/$/, '');

/** The stored blob behind an archive path (following links). */
export function blobAt(s: Spooled, path: string): BlobInfo | undefined {
  let p = cleanPath(path);
  for (let hops = 0; hops < 16; hops++) {
    const found = s.blobs.get(p);
    if (found) return found;
    const next = s.links.get(p);
    if (next === undefined) return undefined;
    p = next;
  }
  return undefined;
}

async function readSmall(entry: Readable, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of entry as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > METADATA_LIMIT) throw invalidArgument(`archive file ${name} is larger than ${METADATA_LIMIT} bytes; this is not an image archive`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** The archive's bytes, gunzipped when they are gzip (`docker save | gzip` is common). */
async function maybeGunzip(source: Readable): Promise<Readable> {
  const { head, stream } = await peekHead(source, 4);
  if (sniffCodec(head) !== 'gzip') return stream;
  const gunzip = createGunzip();
  pipeline(stream, gunzip).catch((e: unknown) => gunzip.destroy(e as Error));
  return gunzip;
}

export async function spool(content: ContentStore, source: Readable): Promise<Spooled> {
  const out: Spooled = { metadata: new Map(), blobs: new Map(), layers: new Map(), links: new Map() };
  const extract = tar.extract();
  const feeding = pipeline(await maybeGunzip(source), extract as unknown as NodeJS.WritableStream);
  const reading = (async () => {
    for await (const entry of extract) {
      const name = cleanPath(entry.header.name);
      const type = entry.header.type;
      if (type === 'symlink' || type === 'link') {
        const target = type === 'symlink' ? posix.join(posix.dirname(name), entry.header.linkname) : entry.header.linkname;
        out.links.set(name, cleanPath(target));
        entry.resume();
      } else if (type !== 'file' && type !== 'contiguous-file') {
        entry.resume();
      } else if (METADATA.has(name)) {
        out.metadata.set(name, await readSmall(entry as unknown as Readable, name));
      } else if (LEGACY.test(name)) {
        entry.resume();
      } else {
        const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
        const expected = m ? { digest: `sha256:${m[1]}`, size: entry.header.size } : { size: entry.header.size };
        // Gzip files are probably layers: learn their diff ID on the same pass.
        const { stream, result } = await withDiffId(entry as unknown as Readable);
        const info = await content.ingest(stream, expected);
        out.blobs.set(name, info);
        const layer = await result();
        if (layer) out.layers.set(info.digest, layer);
      }
    }
  })();
  try {
    await Promise.all([feeding, reading]);
  } catch (e) {
    extract.destroy();
    // tar-stream's parse errors carry no code; system and kiln errors pass through.
    if (isKilnError(e) || typeof (e as NodeJS.ErrnoException).code === 'string') throw e;
    throw invalidArgument(`cannot read the image archive: ${(e as Error).message}`, {
      hint: 'give a tar file written by `docker save`, `kiln save` or `skopeo copy … docker-archive:/oci-archive:`',
      cause: e,
    });
  }
  return out;
}
