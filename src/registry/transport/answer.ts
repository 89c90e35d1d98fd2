/**
 * A registry's small answer, read whole: status, headers and body bytes. What kiln keeps of every
 * response it does not stream (ping, HEAD, POST, PUT, PATCH, DELETE, tokens, error documents), made
 * from undici's request API. fetch's Response would load fetch and its web streams, which cost a
 * push or a pull ~10–20 ms of its start (and more CPU per request than a loopback registry takes to answer).
 */
import { STATUS_CODES } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Dispatcher } from 'undici';

/** Error documents and other small bodies are read up to this many bytes; the rest is dropped. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Response headers by name, case-insensitive; a repeated header's values joined with `, ` (as fetch's Headers). */
export class AnswerHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}

  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
}

export class Answer {
  constructor(
    readonly status: number,
    readonly headers: AnswerHeaders,
    private readonly bytes: Buffer,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The status's standard reason phrase (undici's request API does not keep the registry's own). */
  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  async text(): Promise<string> {
    return this.bytes.toString('utf8');
  }
}

/**
 * Reads an answer of undici's request() whole, at most `max` bytes (the rest is dropped, and with it the
 * connection); read to its end, the connection carries the next request. It returns once that connection is
 * back in undici's pool, a turn of the event loop after the body ends: a push's HEAD → POST → PUT, each sent
 * as the answer before it comes, would otherwise open a new connection for every step (socket, connect, a turn
 * for it to complete, undici's set-up: more than the turn waited here).
 */
export async function readAnswer(res: Dispatcher.ResponseData, max = MAX_ANSWER_BYTES): Promise<Answer> {
  const parts: Buffer[] = [];
  let size = 0;
  let whole = true;
  for await (const c of res.body) {
    parts.push(c as Buffer);
    size += (c as Buffer).length;
    if (size >= max) {
      res.body.destroy();
      whole = false;
      break;
    }
  }
  if (whole) await nextTurn();
  return new Answer(res.statusCode, new AnswerHeaders(res.headers), Buffer.concat(parts).subarray(0, max));
}
