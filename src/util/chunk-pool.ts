/**
 * Read buffers used again. A reader takes one per read; whoever holds the bytes last gives it back with
 * `releaseChunk` (the registry transport, once the socket has written them). A chunk nobody gives back is
 * garbage like any buffer, and the pool makes a new one. Why: a push read its layer into fresh 1 MiB buffers
 * that stayed mapped until a GC found them dead (tens of MB at the end of a push), and the kernel unmapped them
 * as the process exited (~0.1 ms per MB). An ingest's staging buffers (content/staging.ts) are kept in one too.
 */
const owner = new WeakMap<ArrayBuffer, ChunkPool>();

export class ChunkPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    readonly size: number,
    /** free buffers kept at most */
    private readonly keep = 8,
  ) {}

  /** A buffer of `size` bytes, used before or new. */
  take(): Buffer {
    const used = this.free.pop();
    if (used) return Buffer.from(used, 0, this.size);
    const fresh = Buffer.allocUnsafeSlow(this.size);
    owner.set(fresh.buffer as ArrayBuffer, this);
    return fresh;
  }

  /** `buf` (one of this pool's, whole or a part) is free again; once only, however often it is said. */
  give(buf: Buffer): void {
    const ab = buf.buffer as ArrayBuffer;
    if (owner.get(ab) === this && this.free.length < this.keep && !this.free.includes(ab)) this.free.push(ab);
  }
}

/** The bytes of `chunk` are no longer needed: its buffer goes back to its pool (a chunk of no pool: nothing). */
export function releaseChunk(chunk: Buffer): void {
  owner.get(chunk.buffer as ArrayBuffer)?.give(chunk);
}
