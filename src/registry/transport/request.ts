/**
 * One HTTP request to a registry on Node's own client (node:http, node:https): its parser is native and its
 * modules come with the node binary, where a WebAssembly parser (undici's llhttp) was compiled and loaded on
 * every push's and pull's way to its first request. It resolves with the answer's status and headers and its
 * body as a stream; a replayable body follows redirects (bounded; another origin gets no credentials). The
 * connection comes from the host's keep-alive agent (dispatcher.ts), and a body read to its end hands it back
 * for the next request. The connect and headers timeouts are kept here, the read timeout by whoever reads the
 * body (answer.ts, the read watchdog, blobreader.ts).
 */
import { request as httpRequest, type Agent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { releaseChunk } from '../../util/chunk-pool.js';
import type { Timeouts } from './timeouts.js';

/** A registry host's connections: the keep-alive agent for a scheme, and how long to wait. */
export interface Dispatcher {
  /** The agent for `http:` or `https:` (it carries the host's TLS settings); throws once its client is closed. */
  agent(protocol: 'http:' | 'https:'): Agent;
  readonly timeouts: Timeouts;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A Buffer or string is sent whole (and again on a redirect); a stream is sent once, with backpressure. */
  body?: Buffer | string | Readable;
  dispatcher: Dispatcher;
  /** Redirects followed for a replayable body (0 for a stream); the answer past them is handed back as it is. */
  maxRedirections?: number;
}

export interface Response {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The host's read timeout, for whoever reads the body. */
  readMs: number;
}

/** A failure of kiln's own below HTTP: a timeout, or a connection closed before its answer. */
export class RequestError extends Error {
  constructor(
    readonly code: 'KILN_CONNECT_TIMEOUT' | 'KILN_HEADERS_TIMEOUT' | 'KILN_BODY_TIMEOUT' | 'KILN_CONNECTION_CLOSED' | 'KILN_BAD_REDIRECT',
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Headers a redirect to another origin does not carry (as browsers, Go and undici do). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

export async function request(url: string | URL, o: RequestOptions): Promise<Response> {
  let at = new URL(url);
  let method = o.method ?? 'GET';
  let headers = o.headers ?? {};
  let body = o.body;
  for (let left = body instanceof Readable ? 0 : (o.maxRedirections ?? 0); ; left--) {
    const res = await send(at, method, headers, body, o.dispatcher);
    const location = res.headers.location;
    if (left <= 0 || !REDIRECTS.has(res.statusCode) || !location) return res;
    discard(res.body);
    const next = new URL(location, at);
    if (next.origin !== at.origin) headers = without(headers, CREDENTIAL_HEADERS);
    if (res.statusCode === 303 && method !== 'HEAD') {
      [method, body] = ['GET', undefined];
      headers = without(headers, ['content-type', 'content-length']);
    }
    at = next;
  }
}

/** Reads a body nobody wants to its end (its connection then carries the next request); a failure of it is nobody's. */
export function discard(body: Readable): void {
  body.on('error', () => undefined).resume();
}

function without(headers: Record<string, string>, names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase())));
}

function send(url: URL, method: string, headers: Record<string, string>, body: RequestOptions['body'], d: Dispatcher): Promise<Response> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    if (!https && url.protocol !== 'http:') throw new RequestError('KILN_BAD_REDIRECT', `sent to ${url.href}, which is not HTTP`);
    const t = d.timeouts;
    const req = (https ? httpsRequest : httpRequest)(url, { method, headers, agent: d.agent(url.protocol as 'http:' | 'https:') });
    // One deadline at a time: connecting (TCP and TLS), then from the request sent to its answer's headers.
    let timer: NodeJS.Timeout | undefined;
    let connected = false;
    let sent = false;
    let answered = false;
    const deadline = (code: 'KILN_CONNECT_TIMEOUT' | 'KILN_HEADERS_TIMEOUT', ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(() => req.destroy(new RequestError(code, `${code === 'KILN_CONNECT_TIMEOUT' ? 'no connection' : 'no response headers'} in ${ms} ms`)), ms);
    };
    const waitHeaders = (): void => {
      if (connected && sent && !answered) deadline('KILN_HEADERS_TIMEOUT', t.headersMs);
    };
    req.once('socket', (socket) => {
      if (req.reusedSocket || (!https && !socket.connecting)) connected = true;
      else {
        deadline('KILN_CONNECT_TIMEOUT', t.connectMs);
        socket.once(https ? 'secureConnect' : 'connect', () => {
          clearTimeout(timer);
          connected = true;
          waitHeaders();
        });
      }
      waitHeaders();
    });
    req.once('finish', () => {
      sent = true;
      waitHeaders();
    });
    req.once('response', (res) => {
      answered = true;
      clearTimeout(timer);
      // an answer that came before the whole body was sent (a refusal): the rest is not sent, nor the connection kept
      if (body instanceof Readable) res.once('end', () => req.writableFinished || req.destroy());
      resolve({ statusCode: res.statusCode!, headers: res.headers, body: res, readMs: t.readMs });
    });
    // (on, not once: a connection that fails after the answer came tells the request too, and nobody else listens)
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // node's "socket hang up": the registry closed the connection before it answered
      reject(e.code === 'ECONNRESET' && e.message === 'socket hang up' ? new RequestError('KILN_CONNECTION_CLOSED', 'connection closed before the answer', e) : e);
    });
    req.once('close', () => clearTimeout(timer));
    if (body instanceof Readable) {
      // the headers go now, not with the body's first chunk: the registry sets its end up while that chunk is read
      req.flushHeaders();
      sendBody(body, req);
    } else req.end(body);
  });
}

/**
 * A streamed body into its request, as pipeline would (backpressure; the request destroyed by a body that fails,
 * the body by a request that ends early), with each chunk given back to its pool once the socket has written
 * it (util/chunk-pool.ts: a push's layer is read into a few reused buffers).
 */
function sendBody(body: Readable, req: ClientRequest): void {
  body.on('data', (chunk: Buffer) => {
    if (!req.write(chunk, () => releaseChunk(chunk))) body.pause();
  });
  req.on('drain', () => body.resume());
  body.once('end', () => req.end());
  body.once('error', (e) => req.destroy(e));
  req.once('close', () => body.destroy());
}
