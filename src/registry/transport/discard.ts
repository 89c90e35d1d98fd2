/**
 * Done with an answer whose body kiln does not need: a small body is read to
 * its end, so its connection goes back to the pool and carries the next
 * request. undici closes a connection whose body is cancelled before it has
 * all arrived, and then the request after a ping opened a new TCP connection
 * (and, with https, a new TLS handshake). A body bigger
 * than KEEP_UP_TO is cancelled. Returns once the connection is free.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Response } from 'undici';

const KEEP_UP_TO = 64 * 1024;

export async function discard(res: Response): Promise<void> {
  const body = res.body;
  if (!body) return;
  if (Number(res.headers.get('content-length') ?? 0) > KEEP_UP_TO) {
    await body.cancel().catch(() => undefined);
    return;
  }
  const reader = body.getReader();
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        // undici puts the connection back in its pool a turn of the event loop after the body ends
        await nextTurn();
        return;
      }
      size += value.byteLength;
      if (size > KEEP_UP_TO) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // the connection failed meanwhile: there is nothing to keep
  }
}
