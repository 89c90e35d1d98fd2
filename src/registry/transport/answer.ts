/**
 * A registry's small answer, read whole: status, headers and body bytes. What kiln keeps of every
 * response it does not stream (ping, HEAD, POST, PUT, PATCH, DELETE, tokens, error documents).
 */
import { STATUS_CODES } from 'node:http';
import { RequestError, type Response } from './request.js';

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

  /** The status's standard reason phrase (not the registry's own, which may say anything). */
  get statusText(): string {
    return STATUS_CODES[this.status] ?? '';
  }

  async text(): Promise<string> {
    return this.bytes.toString('utf8');
  }
}

/**
 * Reads an answer whole, at most `max` bytes (the rest is dropped, and with it the connection); read to its
 * end, its connection carries the next request. A body that sends nothing for the read timeout is dropped
 * (KILN_BODY_TIMEOUT): the whole of it is read at once, so a wait is the registry's.
 */
export async function readAnswer(res: Response, max = MAX_ANSWER_BYTES): Promise<Answer> {
  const parts: Buffer[] = [];
  let size = 0;
  const body = res.body;
  const timer = setTimeout(() => body.destroy(new RequestError('KILN_BODY_TIMEOUT', `no byte of the answer in ${res.readMs} ms`)), res.readMs);
  try {
    for await (const c of body) {
      timer.refresh();
      parts.push(c as Buffer);
      size += (c as Buffer).length;
      if (size >= max) {
        body.destroy();
        break;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return new Answer(res.statusCode, new AnswerHeaders(res.headers), Buffer.concat(parts).subarray(0, max));
}
