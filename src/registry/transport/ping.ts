/**
 * Ping: GET {prefix}/ on the endpoint to learn its scheme (the first of
 * `schemes` a registry answers on: endpoints.ts pingSchemes) and its auth
 * challenge (none, Basic or Bearer).
 */
import { failedPrecondition, unavailable, type KilnError } from '../../errors.js';
import { readAnswer, type Answer } from './answer.js';
import { pickChallenge, type Challenge } from './challenge.js';
import { answerDetail, parseErrorBody } from './errors.js';
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

/** A scheme's answer to the ping that is not a registry's (200 or 401): kept to be reported if no scheme does better. */
interface Refusal {
  url: string;
  status: number;
  detail: string;
}

export async function ping(t: PingTarget): Promise<PingResult> {
  let lastError: unknown;
  let refusal: Refusal | undefined;
  for (const [i, scheme] of t.schemes.entries()) {
    const origin = `${scheme}://${t.host}`;
    try {
      const url = `${origin}${t.prefix}/`;
      const res = await request(url, { headers: { 'user-agent': t.userAgent }, dispatcher: t.dispatcher, maxRedirections: 5 });
      // read to its end: the connection carries the requests that follow (one dropped early is closed, and the
      // next request would open a new connection, with https a new handshake); a failure here is no answer's
      const answer = await readAnswer(res).catch(() => undefined);
      const status = res.statusCode;
      const registry = status === 200 || status === 401;
      if (!registry) {
        // a TLS port asked in plain HTTP says 400: that is the other scheme's to report
        if (!refusal && !(scheme === 'http' && status === 400)) refusal = { url, status, detail: await refusalDetail(status, answer) };
        // not a registry's answer: the next scheme may be
        if (i < t.schemes.length - 1) continue;
        // a fallback counts only if a registry answers there
        if (i > 0) break;
      }
      const challenge = res.headers['www-authenticate'];
      return { origin, challenge: status === 401 ? pickChallenge(Array.isArray(challenge) ? challenge.join(', ') : challenge) : undefined };
    } catch (e) {
      lastError = e;
      // an untrusted certificate is an answer, not a reason to try plain HTTP
      if (isCertError(netErrorCode(e))) break;
    }
  }
  // a server that answered, though not as a registry, says more than the other scheme's failure (a plain-HTTP
  // registry failing is not a TLS handshake to fix); an untrusted certificate stays the answer
  if (refusal && !isCertError(netErrorCode(lastError))) throw refusedPing(t.host, refusal, lastError);
  throw connectionError(t.host, lastError, { where: `GET ${t.prefix}/`, timeouts: t.timeouts });
}

/** `500 Internal Server Error`, with the registry's own error list when its body is one. */
async function refusalDetail(status: number, answer: Answer | undefined): Promise<string> {
  return answerDetail(status, answer ? parseErrorBody(await answer.text()) : []);
}

/** `registry HOST answered GET URL with 404 Not Found`, with a hint for what the status means. */
function refusedPing(host: string, r: Refusal, cause: unknown): KilnError {
  const message = `registry ${host} answered GET ${r.url} with ${r.detail}`;
  if (r.status >= 500 || r.status === 429) return unavailable(message, { cause, hint: 'the registry is failing; try again later' });
  return failedPrecondition(message, {
    cause,
    hint:
      r.status === 404
        ? `no registry API there: check the address and port, a registry answers GET ${new URL(r.url).pathname} with 200 or 401`
        : `check the address and port, and any proxy in front of the registry: a registry answers GET ${new URL(r.url).pathname} with 200 or 401`,
  });
}
