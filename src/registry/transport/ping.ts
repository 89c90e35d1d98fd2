/**
 * Ping: GET {prefix}/ on the endpoint to learn its scheme (the first of
 * `schemes` a registry answers on: endpoints.ts pingSchemes) and its auth
 * challenge (none, Basic or Bearer).
 */
import { readAnswer } from './answer.js';
import { pickChallenge, type Challenge } from './challenge.js';
import { connectionError, isCertError, netErrorCode } from './neterror.js';
import { request, type Dispatcher } from './request.js';
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
      const res = await request(`${origin}${t.prefix}/`, { headers: { 'user-agent': t.userAgent }, dispatcher: t.dispatcher, maxRedirections: 5 });
      // read to its end: the connection carries the requests that follow (one dropped early is closed, and the
      // next request would open a new connection, with https a new handshake); a failure here is no answer's
      await readAnswer(res).catch(() => undefined);
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
