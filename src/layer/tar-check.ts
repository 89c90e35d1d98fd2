/**
 * A pass-through stream that reads what flows through it as a tar (headers
 * and checksums, entries skipped) and fails when it is not one, so a file
 * that is not a tarball is refused while it is copied, never stored as a
 * layer that only fails when a container runs it. `what` names it in the error.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { extract as tarExtract } from 'tar-stream';
import { invalidArgument } from '../errors.js';

/** tar-stream's messages, said for a user. */
function reason(message: string): string {
  if (/unexpected end/i.test(message)) return 'it ends inside a tar header or entry';
  if (/invalid tar header/i.test(message)) return 'a header is not a tar header (bad checksum)';
  return message;
}

export function tarChecked(what: string, hint: string): Transform {
  const ex = tarExtract();
  let entries = 0;
  let failure: Error | undefined;
  const done = new Promise<void>((resolve) => {
    ex.on('entry', (_h, body, next) => {
      entries++;
      body.on('end', next);
      body.resume();
    });
    ex.on('finish', resolve);
    ex.on('close', resolve);
    ex.on('error', (e: Error) => {
      failure = e;
      resolve();
    });
  });
  const notTar = (why: string) => invalidArgument(`${what} is not a tar archive: ${reason(why)}`, { hint });
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (failure) return cb(notTar(failure.message));
      this.push(chunk);
      if (ex.write(chunk)) return cb();
      const go = (): void => {
        ex.off('drain', go);
        ex.off('error', go);
        cb(failure ? notTar(failure.message) : undefined);
      };
      ex.on('drain', go);
      ex.on('error', go); // after the listener above that records the failure
    },
    flush(cb: TransformCallback) {
      ex.end(undefined);
      void done.then(() => cb(failure ? notTar(failure.message) : entries === 0 ? notTar('it holds no entries') : undefined));
    },
  });
}
