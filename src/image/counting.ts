/** Pass-throughs that report the running byte count, for progress bars. */
import { Transform, type Readable } from 'node:stream';

/** A Readable of `source`'s bytes (push: the body handed to the HTTP client). */
export function counting(source: Readable, start: number, onProgress: (current: number) => void): Readable {
  let current = start;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      current += chunk.length;
      onProgress(current);
      done(null, chunk);
    },
  });
  source.on('error', (e) => counter.destroy(e));
  return source.pipe(counter);
}

/**
 * `source`'s chunks for a consumer that iterates them (pull: the store's
 * ingest): no stream between the download and the ingest, one stream hop
 * less per chunk than counting()'s Transform. A consumer that stops early
 * ends the iteration, which destroys `source`.
 */
export async function* countingChunks(source: Readable, start: number, onProgress: (current: number) => void): AsyncGenerator<Uint8Array> {
  let current = start;
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    current += chunk.length;
    onProgress(current);
    yield chunk;
  }
}
