/** The ContentStore of an OCI image layout: `blobs/sha256/<hex>`, written only through verified ingests. */
import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isErrno, notFound } from '../errors.js';
import { blobPath } from './digest.js';
import { ifExists, readSmallWithStatsSync, writing } from '../util/fsutil.js';
import { anonymousKey, FileIngestWriter } from './ingest.js';
import { PooledFileReader } from './pooled-reader.js';
import type { Lease, Leases } from './lease.js';
import type { BlobInfo, ContentStore, Expected, IngestWriter } from './store.js';

const hexRe = /^[a-f0-9]{64}$/;
/**
 * Blobs up to this size are read synchronously by readBytes (an OCI manifest is at most 4 MiB by registries' rules).
 * Also in a `kiln agent` serving this store, where builds run side by side: a 4 MiB document's read blocks the
 * event loop ~1-3 ms, its JSON.parse (which every caller does next, on the same thread) 23-33 ms, so an async read
 * would not shorten what a concurrent build waits for; documents that size are rare (most are a few KiB: 0.04 ms).
 * The installed agent serves containerd, whose content is read over gRPC.
 */
const SYNC_READ_MAX = 4 << 20;

export class LayoutContentStore implements ContentStore {
  constructor(
    readonly root: string,
    private readonly leases: Leases,
    /** the lease this view's writes go to; without it, the process's default lease */
    private readonly lease?: Lease,
  ) {}

  /** This store with its writes recorded in `lease`. */
  under(lease: Lease): LayoutContentStore {
    return new LayoutContentStore(this.root, this.leases, lease);
  }

  private missing(digest: string, e?: unknown): never {
    throw notFound(`content ${digest}: not found in kiln store ${this.root}`, {
      hint: 'pull or load the image again',
      cause: e,
    });
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    try {
      return { digest, size: (await stat(blobPath(this.root, digest))).size };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return undefined;
      throw e;
    }
  }

  async reader(digest: string): Promise<Readable> {
    try {
      return new PooledFileReader(await open(blobPath(this.root, digest), 'r'));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) this.missing(digest, e);
      throw e;
    }
  }

  /**
   * Documents (manifests, indexes, configs: a few KiB) are read synchronously (util/fsutil's small files: listing
   * a store of thousands of images reads two documents per image); anything past SYNC_READ_MAX (a blob that is
   * no document) is read asynchronously.
   */
  async readBytes(digest: string): Promise<Buffer> {
    const file = blobPath(this.root, digest);
    try {
      const small = readSmallWithStatsSync(file, SYNC_READ_MAX);
      if (small === undefined) this.missing(digest);
      return small.bytes ?? (await readFile(file));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) this.missing(digest, e);
      throw e;
    }
  }

  writer(key: string): Promise<IngestWriter> {
    return FileIngestWriter.open(this.root, key, this.lease ?? this.leases.current());
  }

  /**
   * Writes a whole stream under a fresh key (so concurrent writers of the same
   * blob never contend) and commits it. Content already stored is still read
   * to the end and verified, so a caller's stream is always consumed.
   */
  async ingest(source: Readable | AsyncIterable<Uint8Array>, expected?: Expected): Promise<BlobInfo> {
    const w = await this.writer(anonymousKey());
    try {
      await w.write(source);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.commit(expected ?? {});
  }

  async writeBytes(data: Buffer | string, expected?: Expected): Promise<BlobInfo> {
    // Stored already (a rebuild's unchanged config and manifest): not written again.
    const have = expected?.digest ? await this.stat(expected.digest) : undefined;
    return have ?? this.ingest(Readable.from([Buffer.from(data)]), expected);
  }

  async delete(digest: string): Promise<void> {
    const path = blobPath(this.root, digest);
    try {
      await writing(this.root, path, () => unlink(path));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) this.missing(digest, e);
      throw e;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    const dir = join(this.root, 'blobs', 'sha256');
    for (const name of await readdir(dir)) {
      if (!hexRe.test(name)) continue;
      const st = await ifExists(stat(join(dir, name)));
      if (st?.isFile()) yield { digest: `sha256:${name}`, size: st.size };
    }
  }
}
