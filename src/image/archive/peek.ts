/** Look at the first bytes of a stream (to spot gzip or zstd) without losing them. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'zstd';

export function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Returns the first chunk (at least 4 bytes when the stream has them) and a stream of all the bytes. */
export async function peek(source: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 4) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (let next = await it.next(); !next.done; next = await it.next()) yield Buffer.from(next.value);
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

/** A stream of the bytes, gunzipped when they are gzip. */
export async function maybeGunzip(source: Readable): Promise<Readable> {
  const { head, stream } = await peek(source);
  if (sniffCompression(head) !== 'gzip') return stream;
  const gunzip = createGunzip();
  pipeline(stream, gunzip).catch((e: unknown) => gunzip.destroy(e as Error));
  return gunzip;
}
