/**
 * `kiln events` on containerd: a subscription to containerd's Events service
 * for the image topics of the engine's namespace, mapped to Docker's image
 * actions. containerd records names, not why a name was made, so whoever
 * wrote it (kiln, `ctr`, the CRI; by pull, import, load or tag):
 *
 *   /images/create, /images/update        → tag     (a name now points at an image)
 *   /images/delete                        → untag   (a name is gone)
 *   /images/delete of an ID record        → delete  (kiln and the CRI drop `sha256:ID` with an image's last name)
 *
 * ID records being created are not shown. Container events: ./containers/events.ts. containerd keeps no history:
 * a `since` in the past is refused, and without `follow` there is nothing to show.
 */
import { invalidArgument, isKilnError, KilnError } from '../../errors.js';
import { eventMatcher } from '../event-filter.js';
import type { EventQuery, KilnEvent } from '../events.js';
import { decodeAny, type ContainerdConnection, type Message } from './grpc.js';
import { CONTAINER_TOPICS, containerEvents } from './containers/events.js';

const ACTIONS: Record<string, string> = { '/images/create': 'tag', '/images/update': 'tag', '/images/delete': 'untag' };
const isIdName = (name: string) => /^sha256:[a-f0-9]{64}$/.test(name);

/** How far before now a `since` may be (the caller's clock read before the subscription started). */
const SLACK_MS = 2000;

function timeOf(envelope: Message): string {
  const ts = envelope.timestamp as { seconds?: number; nanos?: number } | null | undefined;
  return new Date(ts ? Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6) : Date.now()).toISOString();
}

/** One containerd Envelope as a kiln event; undefined for what kiln does not show. */
export function toKilnEvent(envelope: Message): KilnEvent | undefined {
  const action = ACTIONS[envelope.topic as string];
  const name = decodeAny(envelope.event)?.name as string | undefined;
  if (!action || !name) return undefined;
  if (isIdName(name) && action !== 'untag') return undefined;
  return { time: timeOf(envelope), type: 'image', action: isIdName(name) ? 'delete' : action, id: name, attributes: { name } };
}

export async function* containerdEvents(conn: ContainerdConnection, q: EventQuery, snapshotter: string): AsyncGenerator<KilnEvent> {
  const match = eventMatcher(q.filters);
  if (q.since && q.since.getTime() < Date.now() - SLACK_MS) {
    throw invalidArgument(`containerd keeps no event history: cannot show events since ${q.since.toISOString()}`, {
      hint: 'leave out --since to stream new events; the local backend keeps a log of past ones',
    });
  }
  const since = q.since?.getTime() ?? -Infinity;
  const until = q.until?.getTime() ?? Infinity;
  if (!q.follow || Date.now() > until || q.signal?.aborted) return;
  const stop = new AbortController();
  const abort = () => stop.abort();
  q.signal?.addEventListener('abort', abort, { once: true });
  const timer = Number.isFinite(until) ? setTimeout(abort, until - Date.now()) : undefined;
  try {
    const ns = `namespace==${JSON.stringify(conn.namespace)}`;
    const filters = [`${ns},topic~="^/images/"`, `${ns},topic~="${CONTAINER_TOPICS}"`];
    const container = containerEvents(conn, snapshotter);
    for await (const envelope of conn.serverStream('events', 'Subscribe', { filters }, 'events', stop.signal)) {
      const topic = envelope.topic as string;
      const ev = topic.startsWith('/images/') ? toKilnEvent(envelope) : await container(topic, decodeAny(envelope.event), timeOf(envelope));
      if (!ev) continue;
      const t = Date.parse(ev.time);
      if (t > until) return;
      if (t >= since && match(ev)) yield ev;
    }
  } catch (e) {
    if (!isKilnError(e, 'UNAVAILABLE')) throw e;
    throw new KilnError('UNAVAILABLE', e.message, { cause: e, hint: 'containerd stopped or restarted; run kiln events again once it is up; events in between are not replayed' });
  } finally {
    clearTimeout(timer);
    q.signal?.removeEventListener('abort', abort);
  }
}
