/** A pass-through that reports the running byte count, for progress bars (push; pull counts in the download). */
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
  // the source goes with its counter: an upload attempt that fails destroys the counter, and the file under it is
  // closed now, not by a garbage collection (which warns 'Closing a FileHandle object on garbage collection')
  counter.once('close', () => source.destroy());
  return source.pipe(counter);
}

