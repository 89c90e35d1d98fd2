/**
 * The HTTP transport for one endpoint and one set of scopes: pings once per
 * host (cached by the client), authorizes with Basic or a Bearer token for
 * the scopes, retries 5xx and dropped connections, and re-authorizes once
 * when the registry asks for a scope it did not get.
 */
import { fetch, request as undiciRequest, Headers, Response, type Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import type { KilnError } from '../../errors.js';
import { basicHeader, hasSecret, type AuthConfig } from './auth.js';
import type { TokenCache, TokenRequest } from './bearer.js';
import { pickChallenge } from './challenge.js';
import { connectionError, isRetryableError, netErrorCode, tooManyRedirects } from './neterror.js';
import type { PingResult } from './ping.js';
import { isRetryableStatus, sleep, withRetry, type RetryOptions } from './retry.js';
import type { Timeouts } from './timeouts.js';

/** What a transport needs from the client that made it (shared caches). */
export interface TransportHost {
  userAgent: string;
  retry: RetryOptions;
  /** connect, headers and read timeouts for this host (the dispatcher applies the first two) */
  timeouts: Timeouts;
  tokens: TokenCache;
  /** cached ping of `host` */
  ping(): Promise<PingResult>;
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

/** A blob download: its status, headers and body; `response` when the answer came through fetch (errors keep their body there). */
export interface Download {
  status: number;
  headers: Headers;
  body: Readable;
  response?: Response;
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

  /** True once a request carried credentials (to tell "log in" from "wrong password"). */
  get hadCredentials(): boolean {
    return this.sentCredentials;
  }

  async url(path: string, query?: Record<string, string>): Promise<URL> {
    const { origin } = await this.host.ping();
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

  private async send(req: TransportRequest, extra: string[]): Promise<Response> {
    const p = await this.host.ping();
    const url = await this.url(req.path, req.query);
    const headers: Record<string, string> = { 'user-agent': this.host.userAgent, ...req.headers };
    const authz = await this.authorization(p, extra);
    if (authz) headers.authorization = authz;
    if (req.stream) {
      try {
        return await streamed(url, req.method, headers, req.stream, this.host.dispatcher());
      } catch (e) {
        throw this.failure(req, e);
      }
    }
    // HEAD, POST, PUT, PATCH, DELETE: small answers, through undici's request API (fetch's web streams,
    // abort signals and timing entries cost more CPU per request than a loopback registry takes to answer,
    // and a push's HEAD → POST → PUT chain waits on each). A GET (a manifest after a 401) keeps fetch: its body is whole.
    const attempt = (): Promise<Response> =>
      req.method === 'GET'
        ? fetch(url, { method: req.method, headers, body: req.body, redirect: 'follow', dispatcher: this.host.dispatcher() })
        : small(url, req.method, headers, req.body, this.host.dispatcher());
    let res: Response;
    try {
      res = await withRetry(attempt, this.host.retry);
    } catch (e) {
      throw this.failure(req, e);
    }
    // undici hands back the redirect it stopped following (fetch throws for it)
    const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    if (req.method !== 'GET' && location) throw tooManyRedirects(this.endpointHost, this.where(req), new URL(location, url).href);
    return res;
  }

  /**
   * A GET of blob (or manifest) data as a Node stream, through undici's
   * stream API without web-stream copies. Dropped connections, stalls and
   * 5xx answers are tried again (bounded); a redirect undici stopped
   * following is a loop; a 401 is asked again through request(), which
   * re-authorizes; other answers come back with their (small) error body.
   */
  async download(req: TransportRequest): Promise<Download> {
    const p = await this.host.ping();
    const url = await this.url(req.path, req.query);
    const headers: Record<string, string> = { 'user-agent': this.host.userAgent, ...req.headers };
    const authz = await this.authorization(p, req.extraScopes ?? []);
    if (authz) headers.authorization = authz;
    for (let i = 1; ; i++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await undiciRequest(url, { method: 'GET', headers, dispatcher: this.host.dispatcher(), maxRedirections: MAX_REDIRECTS });
      } catch (e) {
        if (i >= this.attempts || !isRetryableError(netErrorCode(e))) throw this.failure(req, e);
        await sleep((this.host.retry.baseDelayMs ?? 100) * 3 ** (i - 1));
        continue;
      }
      const status = res.statusCode;
      if (status === 200 || status === 206) return { status, headers: toHeaders(res.headers), body: res.body };
      if (status === 401) {
        res.body.resume();
        break; // request() re-authorizes
      }
      if (status >= 300 && status < 400 && res.headers.location) {
        // undici hands back the redirect it stopped following
        res.body.resume();
        const location = res.headers.location;
        const last = typeof location === 'string' ? new URL(location, url).href : undefined;
        throw tooManyRedirects(this.endpointHost, this.where(req), last);
      }
      if (isRetryableStatus(status) && i < this.attempts) {
        res.body.resume();
        await sleep((this.host.retry.baseDelayMs ?? 100) * 3 ** (i - 1));
        continue;
      }
      const response = await asResponse(res);
      return { status, headers: response.headers, body: Readable.from([]), response };
    }
    const res = await this.request(req);
    const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
    return { status: res.status, headers: res.headers, body, response: res };
  }

  /** Sends the request; answers whatever status the registry gives (callers map errors). */
  async request(req: TransportRequest): Promise<Response> {
    const extra = req.extraScopes ?? [];
    const res = await this.send(req, extra);
    if (res.status !== 401 || req.stream) return res;
    // a Bearer registry that wants more (or a fresher token): ask once more
    const p = await this.host.ping();
    const c = pickChallenge(res.headers.get('www-authenticate'));
    if (p.challenge?.scheme !== 'bearer' || c?.scheme !== 'bearer') return res;
    const auth = await this.host.credentials();
    this.host.tokens.invalidate(this.tokenRequest(p, auth, extra));
    const wanted = c.params.scope ? c.params.scope.split(' ').filter((s) => !this.scopes.includes(s) && !extra.includes(s)) : [];
    await res.body?.cancel().catch(() => undefined);
    return this.send(req, [...extra, ...wanted]);
  }
}

/**
 * A request with a layer-sized body, sent with undici's stream API: the Node
 * stream goes to the socket as it is (fetch would copy every chunk through a
 * web stream). The small answer is handed back as a fetch Response.
 */
async function streamed(url: string | URL, method: string, headers: Record<string, string>, body: Readable, dispatcher: Dispatcher): Promise<Response> {
  return asResponse(await undiciRequest(url, { method: method as Dispatcher.HttpMethod, headers, body, dispatcher }));
}

/** Redirects a request() follows, as download() (fetch follows 20). */
const MAX_REDIRECTS = 5;

/** A request whose answer is small (none, or an error document), read whole as a fetch Response; a replayable body is re-sent on a redirect. */
async function small(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, dispatcher: Dispatcher): Promise<Response> {
  return asResponse(await undiciRequest(url, { method: method as Dispatcher.HttpMethod, headers, body, dispatcher, maxRedirections: MAX_REDIRECTS }));
}

/** Error bodies are read up to this many bytes; the rest is dropped. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A small answer of undici's request() as a fetch Response (its body read, at most MAX_ANSWER_BYTES). */
async function asResponse(res: Dispatcher.ResponseData): Promise<Response> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    parts.push(c as Buffer);
    size += (c as Buffer).length;
    if (size >= MAX_ANSWER_BYTES) {
      res.body.destroy();
      break;
    }
  }
  const bytes = Buffer.concat(parts).subarray(0, MAX_ANSWER_BYTES);
  const noBody = res.statusCode === 204 || res.statusCode === 304 || res.statusCode < 200;
  return new Response(noBody ? null : bytes, { status: res.statusCode, headers: toHeaders(res.headers) });
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const one of v) h.append(k, one);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}
