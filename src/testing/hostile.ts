/**
 * A hostile registry for edge cases the real one cannot produce: an
 * in-process node:http server on 127.0.0.1 that serves one image correctly
 * (manifest by tag or digest, blobs with Range) unless `misbehave` takes a
 * request over. Its helpers trickle, stall, reset and redirect; every timer
 * and socket they use ends with stop().
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TestImage } from './blobs.js';
import { tcpQueues } from './tcp-queues.js';

export interface HostileRequestLog {
  method: string;
  url: string;
  range?: string;
}

export interface HostileRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** Every request but the `/v2/` ping, in order. */
  log: HostileRequestLog[];
  /** Writes `bytes` to the socket `chunk` bytes every `everyMs` (raw: headers too, when they are in `bytes`). */
  trickle(socket: Socket, bytes: Buffer, everyMs: number, chunk?: number): void;
  /** Sends a response head (unless sent already), then its body `chunk` bytes every `everyMs`. */
  trickleBody(res: http.ServerResponse, headers: http.OutgoingHttpHeaders, body: Buffer, everyMs: number, chunk?: number): void;
  /**
   * Sends a response head, then `total` bytes of filler as fast as the client reads them;
   * resolves with the bytes the socket took before it ended or was closed.
   */
  flood(res: http.ServerResponse, headers: http.OutgoingHttpHeaders, total: number): Promise<number>;
  /** Keeps the request open and says nothing. */
  stall(res: http.ServerResponse): void;
  /** Sends a response head and `bytes` of its body, then, once the client has read them, resets the connection (TCP RST). */
  resetAfter(res: http.ServerResponse, headers: http.OutgoingHttpHeaders, bytes: Buffer, status?: number): void;
  /** Serves the request as a well-behaved registry would. */
  serve(req: http.IncomingMessage, res: http.ServerResponse): void;
  stop(): Promise<void>;
}

export interface HostileOptions {
  /** The image served (manifest under `tag`, its config and layer as blobs). */
  image: TestImage;
  /** Repository path (default `foo`). */
  repo?: string;
  /** Tag of the manifest (default `latest`). */
  tag?: string;
  /** Return true when the request was answered here; `n` counts requests other than the ping, from 1. */
  misbehave?: (req: http.IncomingMessage, res: http.ServerResponse, n: number, reg: HostileRegistry) => boolean;
}

export async function startHostileRegistry(opts: HostileOptions): Promise<HostileRegistry> {
  const repo = opts.repo ?? 'foo';
  const tag = opts.tag ?? 'latest';
  const { image } = opts;
  const blobs = new Map([image.config, image.layer].map((b) => [b.digest, b.bytes]));
  const timers = new Set<NodeJS.Timeout>();
  const log: HostileRequestLog[] = [];

  function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0]!;
    const prefix = `/v2/${repo}/`;
    if (path.startsWith(`${prefix}manifests/`)) {
      const ref = decodeURIComponent(path.slice(`${prefix}manifests/`.length));
      if (ref !== tag && ref !== image.manifest.digest) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      const headers = { 'content-type': image.mediaType, 'content-length': String(image.manifest.size), 'docker-content-digest': image.manifest.digest };
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : image.manifest.bytes);
      return;
    }
    if (path.startsWith(`${prefix}blobs/`)) {
      const bytes = blobs.get(decodeURIComponent(path.slice(`${prefix}blobs/`.length)));
      if (!bytes) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}');
        return;
      }
      const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const from = m ? Number(m[1]) : 0;
      const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length - from) };
      if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` });
      else res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : bytes.subarray(from));
      return;
    }
    res.writeHead(404).end();
  }

  const every = (ms: number, fn: () => boolean): void => {
    const t = setInterval(() => {
      if (!fn()) {
        clearInterval(t);
        timers.delete(t);
      }
    }, ms);
    timers.add(t);
  };

  let reg: HostileRegistry;
  let count = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/v2/' || req.url === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    log.push({ method: req.method!, url: req.url!, range: req.headers.range });
    if (opts.misbehave?.(req, res, ++count, reg)) return;
    serve(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  reg = {
    host,
    log,
    serve,
    trickle(socket, bytes, everyMs, chunk = 1) {
      let at = 0;
      every(everyMs, () => {
        if (socket.destroyed || at >= bytes.length) return false;
        socket.write(bytes.subarray(at, at + chunk));
        at += chunk;
        return true;
      });
    },
    trickleBody(res, headers, body, everyMs, chunk = 1) {
      if (!res.headersSent) res.writeHead(200, headers).flushHeaders();
      let at = 0;
      every(everyMs, () => {
        if (res.destroyed) return false;
        if (at >= body.length) {
          res.end();
          return false;
        }
        res.write(body.subarray(at, at + chunk));
        at += chunk;
        return true;
      });
    },
    flood(res, headers, total) {
      res.writeHead(200, headers);
      const filler = Buffer.alloc(64 * 1024, 0x7b);
      return new Promise<number>((resolve) => {
        let sent = 0;
        res.on('close', () => resolve(sent));
        const pump = (): void => {
          while (sent < total && !res.destroyed) {
            const part = filler.subarray(0, Math.min(filler.length, total - sent));
            sent += part.length;
            if (!res.write(part)) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
      });
    },
    stall() {
      // nothing: the socket stays open until the client gives up or stop() closes it
    },
    resetAfter(res, headers, bytes, status = 200) {
      res.writeHead(status, headers);
      // An RST makes the client's kernel drop what the client has not read yet: the reset waits until the client
      // has ACKed and read every byte sent (tcp-queues.ts), so "the bytes sent before the cut" are the bytes it got.
      res.write(bytes, () => {
        const socket = res.socket;
        if (!socket) return;
        every(5, () => {
          if (socket.destroyed) return false;
          const q = tcpQueues(socket.localPort!, socket.remotePort!);
          if (q && (q.unacked > 0 || q.unread > 0)) return true;
          socket.resetAndDestroy();
          return false;
        });
      });
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return reg;
}

/** startHostileRegistry, stopped when test `t` ends (what every test would otherwise write as try/finally). */
export async function hostileRegistry(t: { after(fn: () => Promise<void>): void }, opts: HostileOptions): Promise<HostileRegistry> {
  const reg = await startHostileRegistry(opts);
  t.after(() => reg.stop());
  return reg;
}

/** Starts a blob answer as a registry would: 206 from a `Range: bytes=N-` (else 200) with the length of the rest of `size`; returns N. */
export function blobHead(req: http.IncomingMessage, res: http.ServerResponse, size: number): number {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const from = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, { 'content-length': String(size - from) });
  return from;
}
