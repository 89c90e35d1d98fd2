/**
 * Ping: GET {prefix}/ on the endpoint to learn its scheme (the first of
 * `schemes` a registry answers on: endpoints.ts pingSchemes) and its auth
 * challenge (none, Basic or Bearer).
 */
import { fetch, type Dispatcher } from 'undici';
import { pickChallenge, type Challenge } from './challenge.js';
import { connectionError, isCertError, netErrorCode } from './neterror.js';
import { discard } from './discard.js';
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
      const res = await fetch(`${origin}${t.prefix}/`, { headers: { 'user-agent': t.userAgent }, dispatcher: t.dispatcher });
      // read to its end: the connection carries the requests that follow
      await discard(res);
      const registry = res.status === 200 || res.status === 401;
      // not a registry's answer (a TLS port asked in plain HTTP says 400): the next scheme may be
      if (!registry && i < t.schemes.length - 1) continue;
      // a fallback counts only if a registry answers there (not a TLS port saying 400)
      if (!registry && i > 0) break;
      return { origin, challenge: res.status === 401 ? pickChallenge(res.headers.get('www-authenticate')) : undefined };
    } catch (e) {
      lastError = e;
      // an untrusted certificate is an answer, not a reason to try plain HTTP
      if (isCertError(netErrorCode(e))) break;
    }
  }
  throw connectionError(t.host, lastError, { where: `GET ${t.prefix}/`, timeouts: t.timeouts });
}
