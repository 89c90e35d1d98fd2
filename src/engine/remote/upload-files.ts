/**
 * The client's upload of the context files the agent asked for. Files up to
 * a chunk travel whole; to an agent that takes batches (its Need says so)
 * many of them share one `file_batch` message of about a chunk of bytes, so a
 * context of thousands of small files is a few dozen messages rather than
 * one per file (an older agent gets one `file` message per file). Small
 * files are read synchronously, one after another, while the previous batch
 * is on the wire: the stream only waits when the transport's window is full.
 * Larger files are streamed from disk in chunks, then an empty `last`.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { internal } from '../../errors.js';

export interface UploadSource {
  /** digest → a file holding those bytes. */
  sources: Map<string, string>;
  /** digest → its size in bytes (from the manifest). */
  sizes: Map<string, number>;
}

export interface UploadOptions {
  /** Bytes per message (a file's chunk; about the bytes of a batch). */
  chunkSize: number;
  /** The agent takes `file_batch` messages. */
  batches: boolean;
  /** At most this many files per batch (default 10,000). */
  maxBatchFiles?: number;
}

export interface FileMsg {
  digest: string;
  data: Buffer;
  last?: boolean;
}

/** Sends each digest's bytes through `write` (which waits while the stream is full); returns the files and bytes sent. */
export async function uploadFiles(write: (msg: unknown) => Promise<void>, src: UploadSource, digests: string[], opts: UploadOptions): Promise<{ files: number; bytes: number }> {
  const sent = { files: 0, bytes: 0 };
  const maxFiles = opts.maxBatchFiles ?? 10_000;
  let batch: FileMsg[] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const files = batch;
    batch = [];
    batchBytes = 0;
    await write({ file_batch: { files } });
  };
  for (const d of digests) {
    const file = src.sources.get(d);
    if (!file) throw internal(`the agent asked for ${d}, which is not in the build context`);
    const size = src.sizes.get(d) ?? Infinity;
    if (size <= opts.chunkSize) {
      const data = readFileSync(file);
      sent.bytes += data.length;
      sent.files++;
      if (!opts.batches) {
        await write({ file: { digest: d, data, last: true } });
        continue;
      }
      if (batchBytes + data.length > opts.chunkSize || batch.length >= maxFiles) await flush();
      batch.push({ digest: d, data, last: true });
      batchBytes += data.length;
      continue;
    }
    await flush();
    for await (const data of createReadStream(file, { highWaterMark: opts.chunkSize })) {
      await write({ file: { digest: d, data } });
      sent.bytes += (data as Buffer).length;
    }
    await write({ file: { digest: d, data: Buffer.alloc(0), last: true } });
    sent.files++;
  }
  await flush();
  return sent;
}
