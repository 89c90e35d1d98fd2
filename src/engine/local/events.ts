/**
 * The local events log: `ROOT/events.jsonl`, one JSON event per line,
 * appended with O_APPEND (a line is one write, so concurrent kiln processes
 * never interleave). Read back with filters; followed by polling.
 */
import { appendFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno } from '../../errors.js';
import { eventMatcher } from '../event-filter.js';
import type { EventQuery, KilnEvent } from '../events.js';

export const eventsFile = (root: string): string => path.join(root, 'events.jsonl');

export async function appendEvent(root: string, ev: Omit<KilnEvent, 'time'>): Promise<void> {
  const line = JSON.stringify({ time: new Date().toISOString(), ...ev }) + '\n';
  // One small write, made synchronously: a `run --rm` appends four events, and each promise append is three thread-pool round trips.
  try {
    appendFileSync(eventsFile(root), line);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    await mkdir(root, { recursive: true });
    appendFileSync(eventsFile(root), line);
  }
}

/** An image event whose actor is an image: `name` is its names, comma-separated, or the ID when it has none (as Docker's). */
export function appendImageEvent(root: string, action: string, id: string, names: string[] = []): Promise<void> {
  return appendEvent(root, { type: 'image', action, id, attributes: { name: names.length > 0 ? names.join(',') : id } });
}

/** Yields matching events in order; with `follow`, waits for new ones until `until` or the signal. */
export async function* readEvents(root: string, q: EventQuery = {}): AsyncGenerator<KilnEvent> {
  const match = eventMatcher(q.filters);
  const since = q.since?.getTime() ?? -Infinity;
  const until = q.until?.getTime() ?? Infinity;
  let pos = 0;
  let pending = '';
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let fh;
    try {
      fh = await open(eventsFile(root), 'r');
    } catch (e) {
      if (!isErrno(e, 'ENOENT')) throw e;
    }
    if (fh) {
      try {
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          const lines = (pending + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
          pending = lines.pop()!;
          for (const line of lines) {
            if (line.trim() === '') continue;
            const ev = JSON.parse(line) as KilnEvent;
            const t = Date.parse(ev.time);
            if (t > until) return;
            if (t >= since && match(ev)) yield ev;
          }
        }
      } finally {
        await fh.close();
      }
    }
    if (!q.follow || Date.now() > until || q.signal?.aborted) return;
    await sleep(Math.min(200, Math.max(1, until - Date.now())), undefined, { ref: true }).catch(() => undefined);
  }
}
