/**
 * A response body that must keep moving: the time spent waiting for the
 * registry (not for a slow consumer) is added up until READ_PROGRESS_BYTES
 * have arrived; past the read timeout the body is destroyed with a
 * StallError. A silent body and one trickled a byte at a time both stall.
 */
import type { Readable } from 'node:stream';
import { READ_PROGRESS_BYTES } from './timeouts.js';

export class StallError extends Error {
  readonly code = 'KILN_STALL';
  constructor(
    readonly readMs: number,
    /** bytes read from this body before it stalled */
    readonly bytes: number,
  ) {
    super(`less than ${READ_PROGRESS_BYTES} bytes in ${readMs} ms`);
  }
}

export const isStall = (e: unknown): e is StallError => e instanceof StallError;

/** Stops reading a response body and closes its connection (the abort it reports is expected). */
export function drop(body: Readable): void {
  body.on('error', () => undefined);
  if (!body.destroyed) body.destroy();
}

export async function* watched(body: Readable, readMs: number): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  let waited = 0;
  let progress = 0;
  let total = 0;
  try {
    for (;;) {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const e = new StallError(readMs, total);
          body.destroy(e);
          reject(e);
        }, Math.max(1, readMs - waited));
      });
      stalled.catch(() => undefined);
      let r: IteratorResult<Uint8Array>;
      try {
        r = await Promise.race([it.next(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) return;
      waited += Date.now() - started;
      progress += r.value.length;
      total += r.value.length;
      if (progress >= READ_PROGRESS_BYTES) {
        progress = 0;
        waited = 0;
      }
      yield r.value;
    }
  } finally {
    drop(body);
  }
}
