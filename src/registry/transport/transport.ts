/**
 * The HTTP transport for one endpoint and one set of scopes: pings once per
 * host (cached by the client), authorizes with Basic or a Bearer token for
 * the scopes, retries 5xx and dropped connections, and re-authorizes once
 * when the registry asks for a scope it did not get.
 */
import { Answer, AnswerHeaders, readAnswer } from './answer.js';
import { Readable } from 'node:stream';
import type { KilnError } from '../../errors.js';
import { basicHeader, hasSecret, type AuthConfig } from './auth.js';
import type { TokenCache, TokenRequest } from './bearer.js';
import { pickChallenge } from './challenge.js';
import { connectionError, isRetryableError, netErrorCode, tooManyRedirects } from './neterror.js';
import type { PingResult } from './ping.js';
import { discard, request, type Dispatcher, type Response } from './request.js';
import { isRetryableStatus, sleep, withRetry, type RetryOptions } from './retry.js';
import type { Timeouts } from './timeouts.js';

/** What a transport needs from the client that made it (shared caches). */
export interface TransportHost {
  userAgent: string;
  retry: RetryOptions;
  /** connect, headers and read timeouts for this host (request.ts applies the first two) */
  timeouts: Timeouts;
  tokens: TokenCache;
  /** cached ping of `host` */
  ping(): Promise<PingResult>;
  /** The origin the ping tries first (`http://127.0.0.1:5000`): where an early request goes. */
  firstOrigin(): string;
  /** True once the ping was started or its result learned (requests then wait for it). */
  pingKnown(): boolean;
  /** What a request's answer taught about the registry, kept as the ping's result: when none is known, or `over` to replace one without a challenge. */
  learned(p: PingResult, over?: boolean): void;
  credentials(): Promise<AuthConfig | undefined>;
  dispatcher(): Dispatcher;
}

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the API prefix (`/foo/manifests/latest`) or an absolute URL (upload Location). */
  path: string;
  /** Query parameters to add. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A replayable body (manifests); retried. */
  body?: Buffer;
  /** A streamed body (blob data); sent once, never retried here. */
  stream?: Readable;
  /** Scopes needed beyond the transport's (e.g. pull on a mount source). */
  extraScopes?: string[];
}

/**
 * An early request waits this long at most to connect, for its answer's headers and for its body: a registry that
 * does not answer it then gets the ping, with the full timeouts and their messages (a silent registry costs this
 * once more, not another whole headers timeout).
 */
export const EARLY_WAIT_MS = 5_000;

/** `d`, its timeouts capped at EARLY_WAIT_MS. */
function hurried(d: Dispatcher): Dispatcher {
  const cap = (ms: number): number => Math.min(ms, EARLY_WAIT_MS);
  const t = d.timeouts;
  return { agent: (protocol) => d.agent(protocol), timeouts: { connectMs: cap(t.connectMs), headersMs: cap(t.headersMs), readMs: cap(t.readMs) } };
}

/** Answers an early request's sender may take as they are, when a registry gave them (anything else goes again the usual way). */
const EARLY_ANSWERS = new Set([200, 201, 202, 204, 404]);

/** What an early request's answer says of `origin` as a ping would, or undefined when it does not show a registry. */
function registryAnswer(origin: string, res: Answer): PingResult | undefined {
  if (res.status === 401) {
    const challenge = pickChallenge(res.headers.get('www-authenticate'));
    return challenge ? { origin, challenge } : undefined;
  }
  return EARLY_ANSWERS.has(res.status) && res.headers.get('docker-distribution-api-version') !== null ? { origin } : undefined;
}

/** A blob download: its status, headers and body; `response` for any other answer than 200/206 (errors keep their body there). */
export interface Download {
  status: number;
  headers: AnswerHeaders;
  body: Readable;
  response?: Answer;
}

export class Transport {
  private sentCredentials = false;

  constructor(
    private readonly host: TransportHost,
    /** `host:port` requests go to */
    readonly endpointHost: string,
    /** API prefix, `/v2` */
    readonly prefix: string,
    /** `repository:foo:pull,push` */
    readonly scopes: string[],
    /** the registry as the user names it, for messages */
    readonly domain: string,
  ) {}

  get timeouts(): Timeouts {
    return this.host.timeouts;
  }

  get attempts(): number {
    return Math.max(1, this.host.retry.attempts ?? 4);
  }

  /** `GET /v2/foo/manifests/latest`, for messages. */
  where(req: TransportRequest): string {
    return `${req.method} ${/^https?:\/\//.test(req.path) ? req.path : `${this.prefix}${req.path}`}`;
  }

  /** The one line for a request that failed below HTTP (refused, reset, stalled). */
  failure(req: TransportRequest, e: unknown): KilnError {
    const retried = isRetryableError(netErrorCode(e)) && !req.stream;
    return connectionError(this.endpointHost, e, { where: this.where(req), timeouts: this.host.timeouts, attempts: retried ? this.attempts : 1 });
  }

  /** Pings the registry now (cached by the client); a failure is left to the first request to report. */
  prepare(): void {
    this.host.ping().catch(() => undefined);
  }

  /** True once a request carried credentials (to tell "log in" from "wrong password"). */
  get hadCredentials(): boolean {
    return this.sentCredentials;
  }

  async url(path: string, query?: Record<string, string>): Promise<URL> {
    return this.urlAt((await this.host.ping()).origin, path, query);
  }

  private urlAt(origin: string, path: string, query?: Record<string, string>): URL {
    const u = /^https?:\/\//.test(path) ? new URL(path) : new URL(`${origin}${this.prefix}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) u.searchParams.set(k, v);
    return u;
  }

  private tokenRequest(p: PingResult, auth: AuthConfig | undefined, extra: string[]): TokenRequest {
    return {
      realm: p.challenge!.params.realm,
      service: p.challenge!.params.service,
      scopes: [...new Set([...this.scopes, ...extra])],
      auth: hasSecret(auth) ? auth : undefined,
      domain: this.domain,
      userAgent: this.host.userAgent,
      dispatcher: this.host.dispatcher(),
    };
  }

  private async authorization(p: PingResult, extra: string[]): Promise<string | undefined> {
    const c = p.challenge;
    if (!c) return undefined;
    const auth = await this.host.credentials();
    if (hasSecret(auth)) this.sentCredentials = true;
    if (c.scheme === 'basic') return hasSecret(auth) && !auth.registrytoken ? basicHeader(auth) : undefined;
    if (c.scheme === 'bearer' && c.params.realm) return `Bearer ${await this.host.tokens.get(this.tokenRequest(p, auth, extra))}`;
    return undefined;
  }

  private async send(req: TransportRequest, extra: string[]): Promise<Answer> {
    const p = await this.host.ping();
    const url = await this.url(req.path, req.query);
    const headers: Record<string, string> = { 'user-agent': this.host.userAgent, ...req.headers };
    const authz = await this.authorization(p, extra);
    if (authz) headers.authorization = authz;
    if (req.stream) {
      try {
        return await readAnswer(await request(url, { method: req.method, headers, body: req.stream, dispatcher: this.host.dispatcher() }));
      } catch (e) {
        throw this.failure(req, e);
      }
    }
    // A replayable body (a manifest) is sent again on a redirect and on a retry.
    const attempt = async (): Promise<Answer> =>
      readAnswer(await request(url, { method: req.method, headers, body: req.body, dispatcher: this.host.dispatcher(), maxRedirections: MAX_REDIRECTS }));
    let res: Answer;
    try {
      res = await withRetry(attempt, this.host.retry);
    } catch (e) {
      throw this.failure(req, e);
    }
    // the redirect request() stopped following
    const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    if (location) throw tooManyRedirects(this.endpointHost, this.where(req), new URL(location, url).href);
    return res;
  }

  /** After a 401: the scopes to ask a fresh Bearer token for (the challenge's added), or undefined when asking again cannot help. */
  private async reauthorize(challenge: string | null, extra: string[]): Promise<string[] | undefined> {
    const p = await this.host.ping();
    const c = pickChallenge(challenge);
    // a registry whose first answer asked for nothing (an open /v2/, an anonymous HEAD) wants credentials here: ask as it says
    if (!p.challenge && c) {
      this.host.learned({ origin: p.origin, challenge: c }, true);
      return extra;
    }
    if (p.challenge?.scheme !== 'bearer' || c?.scheme !== 'bearer') return undefined;
    const auth = await this.host.credentials();
    this.host.tokens.invalidate(this.tokenRequest(p, auth, extra));
    const wanted = c.params.scope ? c.params.scope.split(' ').filter((s) => !this.scopes.includes(s) && !extra.includes(s)) : [];
    return [...extra, ...wanted];
  }

  /**
   * A GET of blob (or manifest) data as a Node stream. Dropped connections, stalls and
   * 5xx answers are tried again (bounded); a redirect request() stopped
   * following is a loop; a 401 re-authorizes once (a Bearer registry that
   * wants another scope or a fresher token); other answers come back with their (small) error body.
   */
  async download(req: TransportRequest): Promise<Download> {
    const p = await this.host.ping();
    const url = await this.url(req.path, req.query);
    const headers: Record<string, string> = { 'user-agent': this.host.userAgent, ...req.headers };
    let extra = req.extraScopes ?? [];
    const authz = await this.authorization(p, extra);
    if (authz) headers.authorization = authz;
    let reauthorized = false;
    for (let i = 1; ; i++) {
      let res: Response;
      try {
        res = await request(url, { method: 'GET', headers, dispatcher: this.host.dispatcher(), maxRedirections: MAX_REDIRECTS });
      } catch (e) {
        if (i >= this.attempts || !isRetryableError(netErrorCode(e))) throw this.failure(req, e);
        await sleep((this.host.retry.baseDelayMs ?? 100) * 3 ** (i - 1));
        continue;
      }
      const status = res.statusCode;
      if (status === 200 || status === 206) return { status, headers: new AnswerHeaders(res.headers), body: res.body };
      if (status === 401 && !reauthorized) {
        const challenge = new AnswerHeaders(res.headers).get('www-authenticate');
        const more = await this.reauthorize(challenge, extra);
        if (more) {
          discard(res.body);
          reauthorized = true;
          extra = more;
          const again = await this.authorization(await this.host.ping(), extra);
          if (again) headers.authorization = again;
          i--; // not a failed attempt
          continue;
        }
      }
      if (status >= 300 && status < 400 && res.headers.location) {
        // the redirect request() stopped following
        discard(res.body);
        const location = res.headers.location;
        const last = typeof location === 'string' ? new URL(location, url).href : undefined;
        throw tooManyRedirects(this.endpointHost, this.where(req), last);
      }
      if (isRetryableStatus(status) && i < this.attempts) {
        discard(res.body);
        await sleep((this.host.retry.baseDelayMs ?? 100) * 3 ** (i - 1));
        continue;
      }
      const response = await readAnswer(res);
      return { status, headers: response.headers, body: Readable.from([]), response };
    }
  }

  /**
   * Sends `req` (no body, or a replayable one) with no ping before it, as containerd's resolver sends a push's
   * first HEAD: to the origin the ping would try first, without credentials. An answer that shows a registry
   * there stands for the ping: a 401 with a challenge (the request then goes again, authorized), or a 200, 201,
   * 202, 204 or 404 that says `Docker-Distribution-Api-Version` (taken as it is). Anything else (a failure, a
   * TLS port, no such header, no answer within EARLY_WAIT_MS) and the request goes the usual way: the ping, with its scheme fallback and its
   * messages, then the request. Once the ping is known, the usual way at once.
   */
  async early(req: TransportRequest): Promise<Answer> {
    if (req.stream || this.host.pingKnown()) return this.request(req);
    const origin = this.host.firstOrigin();
    const res = await this.sendOnce(origin, req).catch(() => undefined);
    const p = res && registryAnswer(origin, res);
    if (p) {
      this.host.learned(p);
      if (!p.challenge) return res!;
    }
    return this.request(req);
  }

  /** One attempt at `origin`, without credentials, redirects or retries: an early request's. */
  private async sendOnce(origin: string, req: TransportRequest): Promise<Answer> {
    const url = this.urlAt(origin, req.path, req.query);
    const headers: Record<string, string> = { 'user-agent': this.host.userAgent, ...req.headers };
    return readAnswer(await request(url, { method: req.method, headers, body: req.body, dispatcher: hurried(this.host.dispatcher()) }));
  }

  /** Sends the request; answers whatever status the registry gives (callers map errors). */
  async request(req: TransportRequest): Promise<Answer> {
    const extra = req.extraScopes ?? [];
    const res = await this.send(req, extra);
    if (res.status !== 401 || req.stream) return res;
    // a Bearer registry that wants more (or a fresher token): ask once more
    const more = await this.reauthorize(res.headers.get('www-authenticate'), extra);
    return more ? this.send(req, more) : res;
  }
}

/** Redirects followed for kiln (fetch would follow 20). */
const MAX_REDIRECTS = 5;
