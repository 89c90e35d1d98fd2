/**
 * Byte streams over gRPC streams, both directions and both sides: a Readable
 * cut into Chunk messages of at most CHUNK_SIZE bytes, written with flow
 * control (a write that returns false waits for 'drain'), and a stream of
 * Chunk messages written to a Writable the same way. Nothing layer-sized is
 * ever held in memory: at most a chunk or two per direction.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { CHUNK_SIZE, type ChunkMsg } from './proto.js';

interface MessageSink {
  write(msg: unknown): boolean;
  destroyed?: boolean;
}

/** Writes one message, waiting for 'drain' when the stream's buffer is full. */
export async function send(sink: MessageSink & NodeJS.EventEmitter, msg: unknown): Promise<void> {
  if (!sink.write(msg)) await drained(sink);
}

async function drained(sink: NodeJS.EventEmitter): Promise<void> {
  const ac = new AbortController();
  try {
    // A stream that fails or closes while full never drains: stop waiting then too.
    await Promise.race([once(sink, 'drain', { signal: ac.signal }), once(sink, 'close', { signal: ac.signal }).then(() => Promise.reject(new Error('the stream closed')))]);
  } finally {
    ac.abort();
  }
}

/** Sends `input` as Chunk messages (the first may carry `json`); returns the bytes sent. */
export async function sendChunks(sink: MessageSink & NodeJS.EventEmitter, input: Readable | AsyncIterable<Buffer | string>, json?: string): Promise<number> {
  let bytes = 0;
  let first = json;
  for await (const piece of input) {
    const buf = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
    for (let i = 0; i < buf.length; i += CHUNK_SIZE) {
      const data = buf.subarray(i, i + CHUNK_SIZE);
      await send(sink, first === undefined ? { data } : { data, json: first });
      first = undefined;
      bytes += data.length;
    }
  }
  if (first !== undefined) await send(sink, { json: first });
  return bytes;
}

/** Writes a Buffer to a Writable, waiting for 'drain' when it asks to. */
export async function writeOut(out: Writable, data: Buffer): Promise<void> {
  if (data.length === 0) return;
  if (!out.write(data)) await drained(out);
}

/** The bytes of a stream of Chunk messages (ignores their json). */
export async function* chunkBytes(messages: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const m of messages) {
    const data = (m as ChunkMsg).data;
    if (data && data.length > 0) yield data;
  }
}
