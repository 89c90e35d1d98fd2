/**
 * An ingest: bytes go to `ingest/<key-hash>.data`, hashed as they stream;
 * commit verifies digest and size, fsyncs and renames into `blobs/sha256/`.
 * `ingest/<key-hash>.lock` (owner pid) keeps one writer per key and tells GC
 * the data is in use; after a crash the next writer takes the stale lock over
 * and resumes from the bytes already on disk; a writer that finds a live
 * owner is refused with IngestHeldError (./held-ingest.ts: a pull waits on
 * it while the data file moves). An anonymous ingest (a whole
 * stream under a fresh key: nobody resumes it) keeps its files as temps of its
 * process (`ingest/anonymous.data.tmp-<pid>-<hex>`): once that process is gone,
 * the next command that writes to the store removes them (./temps.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { failedPrecondition } from '../errors.js';
import { IngestHeldError } from './held-ingest.js';
import { verificationFailed } from './verification.js';
import { Staging } from './staging.js';
import { blobPath, checkDigest } from './digest.js';
import { fsyncDir, ifExists, tempOwner, tempPath, unlinkQuiet, writing } from '../util/fsutil.js';
import type { Lease } from './lease.js';
import { type Release, tryLock } from '../util/lock.js';
import type { BlobInfo, Expected, IngestWriter } from './store.js';

/** File name stem of an ingest key (keys may hold any characters). */
export const ingestStem = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A fresh key of this process for an ingest nobody resumes (a temp name: `anonymous.tmp-<pid>-<hex>`). */
export const anonymousKey = (): string => tempPath('anonymous');

export const ingestPaths = (root: string, key: string): { data: string; lock: string } => {
  if (key.startsWith('anonymous.tmp-') && tempOwner(key) !== undefined) {
    const dir = join(root, 'ingest');
    return { data: join(dir, key.replace(/^anonymous/, 'anonymous.data')), lock: join(dir, key.replace(/^anonymous/, 'anonymous.lock')) };
  }
  const stem = join(root, 'ingest', ingestStem(key));
  return { data: `${stem}.data`, lock: `${stem}.lock` };
};

/**
 * The ingest's lock names a live process (`<pid>:<start>`, or `starting`/`breaking` for a moment): what a
 * waiter (./held-ingest.ts) watches is the data file's size and mtime.
 */
function held(root: string, key: string, paths: { data: string; lock: string }, heldBy: string): IngestHeldError {
  const pid = heldBy.split(':')[0]!;
  const holder = /^\d+$/.test(pid) ? `process ${pid}` : undefined;
  return new IngestHeldError(
    {
      ref: `"${key}"`,
      store: `kiln store ${root}`,
      ...(holder ? { holder } : {}),
      hint: `${holder ? `stop ${holder}` : 'stop the other kiln command'}, which holds ${paths.lock}, then run the command again`,
      progress: async () => {
        const st = await ifExists(stat(paths.data));
        return st && { offset: st.size, updatedAt: st.mtimeMs };
      },
    },
    `ingest "${key}" in ${root} is being written by process ${pid}`,
    { hint: 'another kiln command is fetching the same content; wait for it to finish' },
  );
}

/** Bytes read at a time when an interrupted ingest's data is hashed again. */
const WRITE_BATCH = 1 << 20;

/**
 * Written bytes not yet flushed that start a flush in the background (one at
 * a time): the disk writes a big blob back while it still downloads, and the
 * fsync of the commit waits only for the tail (it was ~10% of a 92 MB pull).
 */
const EARLY_SYNC = 8 << 20;

/** What is left of `parts` after its first `n` bytes. */
function rest(parts: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < parts.length && n >= parts[i]!.length) n -= parts[i++]!.length;
  return i < parts.length ? [parts[i]!.subarray(n), ...parts.slice(i + 1)] : [];
}

/** fsync of a closed file. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class FileIngestWriter implements IngestWriter {
  private done = false;
  /** bytes written since the last early flush started */
  private unsynced = 0;
  /** the early flush in flight */
  private syncing?: Promise<void>;
  /** what an early flush failed with: said by the commit (a later fsync may not report it again) */
  private syncError?: unknown;

  private constructor(
    private readonly root: string,
    private readonly key: string,
    private readonly paths: { data: string; lock: string },
    private readonly fh: FileHandle,
    private readonly hash: Hash,
    private bytes: number,
    private readonly release: Release,
    private readonly lease: Lease,
  ) {}

  /** Opens the ingest for `key`, re-hashing bytes left by an interrupted writer. */
  static async open(root: string, key: string, lease: Lease): Promise<FileIngestWriter> {
    const paths = ingestPaths(root, key);
    const got = await writing(root, paths.lock, () => tryLock(paths.lock));
    if (typeof got !== 'function') throw held(root, key, paths, got.heldBy);
    let fh: FileHandle | undefined;
    try {
      fh = await writing(root, paths.data, () => open(paths.data, 'a+', 0o644));
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of createReadStream('', { fd: fh, autoClose: false, start: 0, highWaterMark: WRITE_BATCH }) as AsyncIterable<Buffer>) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return new FileIngestWriter(root, key, paths, fh, hash, bytes, got, lease);
    } catch (e) {
      // the kept bytes could not be read again: the data file is closed here, not left to the GC
      await fh?.close().catch(() => undefined);
      await got();
      throw e;
    }
  }

  get offset(): number {
    return this.bytes;
  }

  /**
   * Chunks are staged in batches of about 1 MiB (./staging.ts: small ones
   * copied into reused buffers, big ones as they are), each hashed once and
   * written while the next gathers. A Readable is taken by its
   * 'data' events and paused while both buffers wait for the disk: no
   * async-iterator read, which concatenated every chunk it had buffered
   * (one more copy of each byte), and no promise per chunk. `offset` counts
   * only bytes on disk, and everything taken from the source is hashed and
   * on disk before this returns or throws, so a resume after a failed
   * source starts after it.
   */
  async write(source: Readable | AsyncIterable<Uint8Array>): Promise<void> {
    this.assertOpen();
    const staging = new Staging(this.hash, (batch) => this.writeAll(batch));
    try {
      if (source instanceof Readable) await drain(source, staging);
      else {
        for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
          if (!staging.add(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) await staging.drained();
        }
      }
    } finally {
      // Also when the source fails (a stalled download): what was taken goes to disk.
      await staging.finish();
    }
  }

  private async writeAll(parts: Uint8Array[]): Promise<void> {
    let left = parts;
    let size = 0;
    for (const p of parts) size += p.length;
    // a short write is rare on a regular file: the rest goes in another
    for (let todo = size; todo > 0; ) {
      const batch = left;
      const { bytesWritten } = await writing(this.root, this.paths.data, () => this.fh.writev(batch));
      todo -= bytesWritten;
      left = rest(left, bytesWritten);
    }
    this.bytes += size;
    this.unsynced += size;
    if (this.unsynced >= EARLY_SYNC && this.syncing === undefined) {
      this.unsynced = 0;
      this.syncing = this.fh
        .datasync()
        .catch((e: unknown) => void (this.syncError ??= e))
        .finally(() => (this.syncing = undefined));
    }
  }

  /** Waits for the early flush in flight; throws what one failed with. */
  private async synced(): Promise<void> {
    await this.syncing;
    if (this.syncError !== undefined) throw this.syncError;
  }

  async commit(expected: Expected = {}): Promise<BlobInfo> {
    this.assertOpen();
    if (expected.digest !== undefined) checkDigest(expected.digest);
    this.done = true;
    const size = this.bytes;
    const digest = `sha256:${this.hash.digest('hex')}`;
    try {
      const badDigest = expected.digest !== undefined && expected.digest !== digest;
      const badSize = expected.size !== undefined && expected.size !== size;
      if (badDigest || badSize) {
        await this.syncing;
        await this.fh.close();
        await unlink(this.paths.data);
        throw verificationFailed(
          `content "${this.key}" failed verification: expected ${expected.digest ?? 'any digest'}` +
            `${expected.size !== undefined ? ` (${expected.size} bytes)` : ''}, got ${digest} (${size} bytes); not stored`,
          { digest, size },
          { hint: 'the source sent different bytes than announced; retry, or check the registry or archive' },
        );
      }
      const target = blobPath(this.root, digest);
      // Content already stored (a manifest pulled again, a layer another build made) is not
      // flushed to disk only to be dropped: the data goes to disk before it takes the blob's name.
      const stored = (await ifExists(stat(target)))?.size === size;
      if (!stored) {
        await this.synced();
        await this.fh.sync();
      } else await this.syncing;
      await this.fh.close();
      await this.lease.protect(digest, async () => {
        const existing = await ifExists(stat(target));
        if (existing !== undefined && existing.size === size) {
          await unlink(this.paths.data);
          return;
        }
        // removed meanwhile (GC): flushed now, before the rename
        if (stored) await syncFile(this.paths.data);
        await writing(this.root, target, () => rename(this.paths.data, target));
        await fsyncDir(join(this.root, 'blobs', 'sha256'));
      });
      return { digest, size };
    } finally {
      await this.release();
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.syncing;
      await this.fh.close();
      await unlinkQuiet(this.paths.data);
    } finally {
      await this.release();
    }
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.syncing;
      await this.fh.close();
    } finally {
      await this.release();
    }
  }

  private assertOpen(): void {
    if (this.done) throw failedPrecondition(`ingest "${this.key}" in ${this.root} is already committed or aborted`);
  }
}

/**
 * A Readable's chunks into `staging`, by its 'data' events: paused while the
 * staging waits for the disk. Ends when the source ends; a source error or
 * early close rejects; a failed write destroys the source and rejects with it.
 */
function drain(source: Readable, staging: Staging): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (e: unknown): void => {
      if (failed) return;
      failed = true;
      source.off('data', onData);
      source.destroy();
      reject(e);
    };
    const onData = (c: Uint8Array | string): void => {
      if (failed) return;
      let more: boolean;
      try {
        more = staging.add(typeof c === 'string' ? Buffer.from(c) : c);
      } catch (e) {
        return fail(e);
      }
      if (more) return;
      source.pause();
      waiting = staging.drained().then(() => failed || source.resume(), fail);
    };
    /** the wait for the disk after the last chunk: the source may end meanwhile */
    let waiting: Promise<unknown> = Promise.resolve();
    source.on('data', onData);
    // a source paused before it came here flows too (as an iterator would read it)
    source.resume();
    finished(source, { writable: false }).then(
      () => waiting.then(() => failed || resolve()),
      (e: unknown) => {
        if (failed) return;
        failed = true;
        source.off('data', onData);
        reject(e);
      },
    );
  });
}
