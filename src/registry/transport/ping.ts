/**
 * Ping: GET {prefix}/ on the endpoint to learn its scheme (the first of
 * `schemes` a registry answers on: endpoints.ts pingSchemes) and its auth
 * challenge (none, Basic or Bearer).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { pickChallenge, type Challenge } from './challenge.js';
import { connectionError, isCertError, netErrorCode } from './neterror.js';
import type { Timeouts } from './timeouts.js';

export interface PingResult {
  /** `https://host:port` or `http://host:port` */
  origin: string;
  challenge?: Challenge;
}

export interface PingTarget {
  host: string;
  prefix: string;
  schemes: ('https' | 'http')[];
  dispatcher: Dispatcher;
  userAgent: string;
  timeouts?: Timeouts;
}

export async function ping(t: PingTarget): Promise<PingResult> {
  let lastError: unknown;
  for (const [i, scheme] of t.schemes.entries()) {
    const origin = `${scheme}://${t.host}`;
    try {
      // undici's request API, not fetch: the ping is on every push's and pull's path to its first byte
      const res = await request(`${origin}${t.prefix}/`, { headers: { 'user-agent': t.userAgent }, dispatcher: t.dispatcher, maxRedirections: 5 });
      // read to its end: the connection carries the requests that follow
      await readSmall(res.body);
      const status = res.statusCode;
      const registry = status === 200 || status === 401;
      // not a registry's answer (a TLS port asked in plain HTTP says 400): the next scheme may be
      if (!registry && i < t.schemes.length - 1) continue;
      // a fallback counts only if a registry answers there (not a TLS port saying 400)
      if (!registry && i > 0) break;
      const challenge = res.headers['www-authenticate'];
      return { origin, challenge: status === 401 ? pickChallenge(Array.isArray(challenge) ? challenge.join(', ') : challenge) : undefined };
    } catch (e) {
      lastError = e;
      // an untrusted certificate is an answer, not a reason to try plain HTTP
      if (isCertError(netErrorCode(e))) break;
    }
  }
  throw connectionError(t.host, lastError, { where: `GET ${t.prefix}/`, timeouts: t.timeouts });
}

/**
 * Reads a small answer to its end, so its connection carries the next request (undici closes one whose
 * body is dropped early, and the next request opens a new TCP connection, with https a new handshake);
 * one bigger than 64 KiB is dropped. Returns once the connection is free.
 */
async function readSmall(body: Dispatcher.ResponseData['body']): Promise<void> {
  let size = 0;
  try {
    for await (const c of body) {
      size += (c as Buffer).length;
      if (size > 64 * 1024) {
        body.destroy();
        return;
      }
    }
    // undici puts the connection back in its pool a turn of the event loop after the body ends
    await nextTurn();
  } catch {
    // the connection failed meanwhile: there is nothing to keep
  }
}
