/**
 * Staging for an ingest's writes, in batches of about 1 MiB, one write in
 * flight while the next batch gathers, each batch hashed once as it starts.
 * Small chunks (a download's 16–64 KiB socket reads) are copied into one of
 * two reused 1 MiB buffers: dropped as soon as they are copied, they die
 * young (a scavenge frees them); held until a batched writev they lived long
 * enough to need mark-compacts, ~5 per 93 MB pull for their external memory
 * alone. Big chunks (LARGE_CHUNK or more: a build's layer tar, gathered
 * 256 KiB at a time by its writer, and a big file's reads) join the batch as
 * they are, without the copy, which cost ~12% of the commit CPU of a 206 MB
 * layer; a batch is then written with one writev of its parts.
 */
import type { Hash } from 'node:crypto';
import { ChunkPool } from '../util/chunk-pool.js';

export const STAGE_BYTES = 1 << 20;
/** Chunks of this size or more are not copied (above a socket read, so a download's chunks are all copied). */
export const LARGE_CHUNK = 128 << 10;

/** Staging buffers free for the next ingest (two per concurrent writer at most; a pull runs three): 8 kept. */
const pool = new ChunkPool(STAGE_BYTES, 8);
const take = (): Buffer => pool.take();
const give = (b: Buffer | undefined): void => void (b && pool.give(b));

export class Staging {
  /** the buffer small chunks are copied into, how full it is, and where its part not yet in `parts` starts */
  private current: Buffer | undefined;
  private fill = 0;
  private from = 0;
  /** the batch gathering: views of big chunks and of `current`, in order, and their bytes */
  private parts: Uint8Array[] = [];
  private bytes = 0;
  /** the other buffer (written, or being written) */
  private spare: Buffer | undefined;
  private inflight: Promise<void> | undefined;
  private failed: { error: unknown } | undefined;
  /**
   * What did not fit while a batch was full and another in flight, held (not copied) until drained(): the rest
   * of the chunk that filled it, and any chunk a source sends after it was told to wait (a well-behaved one sends none).
   */
  private held: Uint8Array[] = [];

  constructor(
    private readonly hash: Hash,
    /** writes one batch whole, its parts in order; one call at a time */
    private readonly sink: (parts: Uint8Array[]) => Promise<void>,
  ) {}

  /** Takes a chunk. False when the caller must wait for drained() before it adds another. */
  add(chunk: Uint8Array): boolean {
    if (this.failed) throw this.failed.error;
    if (this.held.length > 0) {
      this.held.push(chunk);
      return false;
    }
    let off = 0;
    while (off < chunk.length) {
      if (this.bytes >= STAGE_BYTES) {
        if (this.inflight) {
          this.held.push(off === 0 ? chunk : chunk.subarray(off));
          return false;
        }
        this.start();
      }
      if (off === 0 && chunk.length >= LARGE_CHUNK) {
        this.closeCopied();
        this.parts.push(chunk);
        this.bytes += chunk.length;
        break;
      }
      this.current ??= take();
      const n = Math.min(STAGE_BYTES - this.fill, chunk.length - off);
      this.current.set(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      this.bytes += n;
      off += n;
    }
    if (this.bytes < STAGE_BYTES) return true;
    if (this.inflight) return false;
    this.start();
    return true;
  }

  /**
   * Waits for the write in flight (throws what it failed with), then takes what was held.
   * Safe beside another drained() or finish(): a write starts only when none is in flight.
   */
  async drained(): Promise<void> {
    for (;;) {
      while (this.inflight) await this.inflight;
      if (this.failed) throw this.failed.error;
      // the full batch goes to the disk now, not at the next chunk
      if (this.bytes >= STAGE_BYTES) this.start();
      const held = this.held;
      this.held = [];
      let [i, more] = [0, true];
      while (more && i < held.length) more = this.add(held[i++]!);
      if (more) return;
      // told to wait again: the ones not taken yet stay held, after what add() just held
      this.held.push(...held.slice(i));
    }
  }

  /** Writes what is staged and waits for it; the buffers go back for the next ingest. Also after a failure. */
  async finish(): Promise<void> {
    try {
      await this.drained();
      while (this.inflight) await this.inflight;
      if (this.bytes > 0 && !this.failed) this.start();
      await this.inflight;
      if (this.failed) throw this.failed.error;
    } finally {
      while (this.inflight) await this.inflight;
      give(this.current);
      give(this.spare);
      this.current = this.spare = undefined;
      this.parts = [];
      this.fill = this.from = this.bytes = 0;
    }
  }

  /** The bytes copied since the last part, as a part of the batch. */
  private closeCopied(): void {
    if (this.fill === this.from) return;
    this.parts.push(this.current!.subarray(this.from, this.fill));
    this.from = this.fill;
  }

  /**
   * Hashes the batch and hands it to the sink; when it holds copied bytes, the spare buffer (its write over)
   * takes the next ones. Only when no write is in flight.
   */
  private start(): void {
    this.closeCopied();
    const parts = this.parts;
    for (const p of parts) this.hash.update(p);
    if (this.fill > 0) [this.current, this.spare] = [this.spare, this.current];
    this.parts = [];
    this.fill = this.from = this.bytes = 0;
    const done = (): void => {
      if (this.inflight === p) this.inflight = undefined;
    };
    const p: Promise<void> = this.sink(parts).then(done, (error: unknown) => {
      this.failed ??= { error };
      done();
    });
    this.inflight = p;
  }
}
