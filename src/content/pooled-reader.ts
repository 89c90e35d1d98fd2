/**
 * A blob file read as a stream, 1 MiB at a time, into buffers of a ChunkPool (util/chunk-pool.ts): a chunk its
 * last reader gives back (a push's socket, once written) is read into again, so a push's layer goes through a
 * few buffers instead of one fresh buffer per MiB. The file handle is closed when the stream ends or is destroyed.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { ChunkPool } from '../util/chunk-pool.js';

const READ_SIZE = 1 << 20;

export class PooledFileReader extends Readable {
  private position = 0;
  private readonly pool = new ChunkPool(READ_SIZE);

  constructor(private readonly fh: FileHandle) {
    super({ highWaterMark: READ_SIZE });
  }

  override _read(): void {
    const buf = this.pool.take();
    this.fh.read(buf, 0, READ_SIZE, this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          this.pool.give(buf);
          this.push(null);
          return;
        }
        this.position += bytesRead;
        this.push(bytesRead === READ_SIZE ? buf : buf.subarray(0, bytesRead));
      },
      (e: Error) => this.destroy(e),
    );
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.fh.close().then(
      () => cb(err),
      (e: Error) => cb(err ?? e),
    );
  }
}
