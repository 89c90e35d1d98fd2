/**
 * `kiln --host … events`: the agent's events as a server stream, one Json
 * message per KilnEvent. The query travels as JSON (times as RFC 3339);
 * aborting the query's signal cancels the call, which ends the agent's
 * subscription.
 */
import type { EventQuery, KilnEvent } from '../events.js';
import type { AgentConnection } from './connection.js';
import { toJson, type JsonMsg } from './proto.js';

export async function* remoteEvents(conn: AgentConnection, q: EventQuery): AsyncGenerator<KilnEvent> {
  const { signal, ...rest } = q;
  if (signal?.aborted) return;
  const args = { ...rest, since: q.since?.toISOString(), until: q.until?.toISOString() };
  try {
    for await (const m of conn.serverStream<JsonMsg>('Events', toJson(args), 'events', { signal })) yield JSON.parse(m.json) as KilnEvent;
  } catch (e) {
    // The subscription ends when its signal aborts (that cancels the call), as on every backend.
    if (signal?.aborted) return;
    throw e;
  }
}
