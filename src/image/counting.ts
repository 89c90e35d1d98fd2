/** A pass-through that reports the running byte count, for progress bars. */
import { Transform, type Readable } from 'node:stream';

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
