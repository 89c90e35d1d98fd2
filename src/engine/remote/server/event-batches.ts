/**
 * The agent's build events for a client that takes them in batches (the start message's
 * `eventBatches`): an event waits at most EVENT_WINDOW_MS for the ones after it, and then all of them
 * go out as one `event_json` message holding a JSON array, in the order they came. A no-change
 * build's dozen cache hits were a dozen messages (a TLS record and a socket write each on the agent,
 * a read on the client); they are now one or two. `flush` sends what waits at once: at the build's
 * end, before its result or its error. A client that did not ask (older ones) gets one event per
 * message, as before.
 */
import type { BuildEvent } from '../../../builder/types.js';

/** How long an event may wait for others: below what a person watching the progress notices. */
export const EVENT_WINDOW_MS = 20;

/** A batch is sent once it holds this many characters of JSON, whatever the window (a message is at most 4 MiB). */
export const EVENT_BATCH_BYTES = 1 << 20;

export interface EventSink {
  emit(e: BuildEvent): void;
  /** Sends the events that wait, if any. */
  flush(): void;
}

type Send = (m: { event_json: string }) => Promise<void>;

/** One message per event (a client that reads one event per message). */
export function singleEvents(send: Send): EventSink {
  return {
    emit: (e) => void send({ event_json: JSON.stringify(e) }).catch(() => undefined),
    flush: () => undefined,
  };
}

/** Events in batches: a JSON array per message. */
export function eventBatches(send: Send, windowMs = EVENT_WINDOW_MS): EventSink {
  let waiting: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const batch = `[${waiting.join(',')}]`;
    waiting = [];
    bytes = 0;
    void send({ event_json: batch }).catch(() => undefined);
  };
  return {
    emit(e) {
      const json = JSON.stringify(e);
      waiting.push(json);
      bytes += json.length;
      // A step that prints fast fills a batch before the window closes: it goes at once, well under MAX_MESSAGE.
      if (bytes >= EVENT_BATCH_BYTES) flush();
      else timer ??= setTimeout(flush, windowMs);
    },
    flush,
  };
}
