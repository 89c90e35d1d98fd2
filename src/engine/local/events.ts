/**
 * The local events log: `ROOT/events.jsonl`, one JSON event per line,
 * appended with O_APPEND (a line is one write, so concurrent kiln processes
 * never interleave). Read back with filters; followed by polling.
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidArgument, isErrno } from '../../errors.js';
import type { EventQuery, KilnEvent } from '../events.js';

export const eventsFile = (root: string): string => path.join(root, 'events.jsonl');

export async function appendEvent(root: string, ev: Omit<KilnEvent, 'time'>): Promise<void> {
  const line = JSON.stringify({ time: new Date().toISOString(), ...ev }) + '\n';
  try {
    await appendFile(eventsFile(root), line);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
    await mkdir(root, { recursive: true });
    await appendFile(eventsFile(root), line);
  }
}

/** Parses `key=value` filters into a matcher; unknown keys are an error, as in Docker. */
export function eventMatcher(filters: string[] = []): (e: KilnEvent) => boolean {
  const want = new Map<string, string[]>();
  for (const f of filters) {
    const i = f.indexOf('=');
    const key = i < 0 ? '' : f.slice(0, i);
    if (!['type', 'event', 'container', 'image', 'volume'].includes(key)) {
      throw invalidArgument(`invalid filter "${f}"`, { hint: 'use type=, event=, container=, image= or volume=' });
    }
    want.set(key, [...(want.get(key) ?? []), f.slice(i + 1)]);
  }
  return (e) =>
    [...want].every(([key, values]) => {
      if (key === 'type') return values.includes(e.type);
      if (key === 'event') return values.includes(e.action);
      if (key !== e.type) return false;
      return values.some((v) => e.id === v || e.id.startsWith(v) || e.attributes.name === v || e.attributes.image === v);
    });
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
