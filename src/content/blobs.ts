/** The ContentStore of an OCI image layout: `blobs/sha256/<hex>`, written only through verified ingests. */
import { readFileSync } from 'node:fs';
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { isErrno, notFound } from '../errors.js';
import { blobPath } from './digest.js';
import { ifExists, writing } from '../util/fsutil.js';
import { anonymousKey, FileIngestWriter } from './ingest.js';
import type { Lease, Leases } from './lease.js';
import type { BlobInfo, ContentStore, Expected, IngestWriter } from './store.js';

const hexRe = /^[a-f0-9]{64}$/;

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

  private missing(digest: string, e: unknown): never {
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
      const fh = await open(blobPath(this.root, digest), 'r');
      return fh.createReadStream({ highWaterMark: 1 << 20 });
    } catch (e) {
      if (isErrno(e, 'ENOENT')) this.missing(digest, e);
      throw e;
    }
  }

  /**
   * Read synchronously: documents are a few KB, and resolving an image (every push, save, run of a name) waited on
   * four serial thread-pool hops (open, stat, read, close) for its manifest, each one also a turn of a main thread
   * busy with the registry's connection: 10-30 ms of a push's way to its first HEAD on a loaded machine.
   */
  async readBytes(digest: string): Promise<Buffer> {
    try {
      return readFileSync(blobPath(this.root, digest));
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

  writeBytes(data: Buffer | string, expected?: Expected): Promise<BlobInfo> {
    return this.ingest(Readable.from([Buffer.from(data)]), expected);
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
