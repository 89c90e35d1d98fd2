/**
 * Staging for an ingest's writes: chunks (a download's 16–64 KiB socket
 * reads) are copied into one of two reused 1 MiB buffers; a full buffer is
 * hashed in one call and written while the other fills. The chunks are
 * dropped as soon as they are copied, so they die young (a scavenge frees
 * them): held until a batched writev they lived long enough to need
 * mark-compacts, ~5 per 93 MB pull for their external memory alone. One
 * write of one buffer per MiB also replaces a writev of dozens of views.
 * A chunk of a batch's size or more that finds the buffers empty is hashed
 * and written as it is, without the copy.
 */
import type { Hash } from 'node:crypto';

export const STAGE_BYTES = 1 << 20;

/** Staging buffers free for the next ingest (two per concurrent writer at most; a pull runs three). */
const free: Buffer[] = [];
const MAX_FREE = 8;
const take = (): Buffer => free.pop() ?? Buffer.allocUnsafeSlow(STAGE_BYTES);
const give = (b: Buffer | undefined): void => void (b && free.length < MAX_FREE && free.push(b));

export class Staging {
  /** the buffer filling, how full it is */
  private current: Buffer | undefined;
  private fill = 0;
  /** the other buffer (written, or being written) */
  private spare: Buffer | undefined;
  private inflight: Promise<void> | undefined;
  private failed: { error: unknown } | undefined;
  /**
   * What did not fit while both buffers were taken, held (not copied) until drained(): the rest of the chunk
   * that filled them, and any chunk a source sends after it was told to wait (a well-behaved one sends none).
   */
  private held: Uint8Array[] = [];

  constructor(
    private readonly hash: Hash,
    /** writes one batch whole; one call at a time */
    private readonly sink: (batch: Uint8Array) => Promise<void>,
  ) {}

  /** Takes a chunk. False when the caller must wait for drained() before it adds another. */
  add(chunk: Uint8Array): boolean {
    if (this.failed) throw this.failed.error;
    if (this.held.length > 0) {
      this.held.push(chunk);
      return false;
    }
    let off = 0;
    if (this.fill === 0 && chunk.length >= STAGE_BYTES) {
      if (this.inflight) {
        this.held.push(chunk);
        return false;
      }
      this.start(chunk);
      return true;
    }
    while (off < chunk.length) {
      if (this.fill === STAGE_BYTES) {
        if (this.inflight) {
          this.held.push(chunk.subarray(off));
          return false;
        }
        this.startCurrent();
      }
      this.current ??= take();
      const n = Math.min(STAGE_BYTES - this.fill, chunk.length - off);
      this.current.set(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
    }
    if (this.fill < STAGE_BYTES) return true;
    if (this.inflight) return false;
    this.startCurrent();
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
      // the full buffer goes to the disk now, not at the next chunk
      if (this.fill === STAGE_BYTES) this.startCurrent();
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
      if (this.fill > 0 && !this.failed) this.startCurrent();
      await this.inflight;
      if (this.failed) throw this.failed.error;
    } finally {
      while (this.inflight) await this.inflight;
      give(this.current);
      give(this.spare);
      this.current = this.spare = undefined;
      this.fill = 0;
    }
  }

  /** Hands the filled buffer to the sink; the spare (its write over) fills next. Only when no write is in flight. */
  private startCurrent(): void {
    const full = this.current!;
    this.start(full.subarray(0, this.fill));
    [this.current, this.spare, this.fill] = [this.spare, full, 0];
  }

  private start(batch: Uint8Array): void {
    this.hash.update(batch);
    const done = (): void => {
      if (this.inflight === p) this.inflight = undefined;
    };
    const p: Promise<void> = this.sink(batch).then(done, (error: unknown) => {
      this.failed ??= { error };
      done();
    });
    this.inflight = p;
  }
}
