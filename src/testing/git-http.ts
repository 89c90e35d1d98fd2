/**
 * Git repositories served over smart HTTP on 127.0.0.1 by the machine's
 * `git http-backend` (a CGI program, run per request), for tests of git
 * sources (kiln's and BuildKit's clients alike): `<url>/<name>.git` is the
 * bare repository `<root>/<name>.git`.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpServer {
  /** http://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

function serve(root: string, req: IncomingMessage, res: ServerResponse): void {
  const u = new URL(req.url ?? '/', 'http://localhost');
  const h = (name: string) => String(req.headers[name] ?? '');
  const cgi = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(u.pathname),
      QUERY_STRING: u.search.slice(1),
      CONTENT_TYPE: h('content-type'),
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: h('content-length') } : {}),
      HTTP_CONTENT_ENCODING: h('content-encoding'),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: h('git-protocol'), HTTP_GIT_PROTOCOL: h('git-protocol') } : {}),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(cgi.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  cgi.stdout.on('data', (chunk: Buffer) => {
    if (started) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    for (const line of head.subarray(0, end).toString().split('\r\n')) {
      const [k, v] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()];
      if (k.toLowerCase() === 'status') res.statusCode = parseInt(v, 10);
      else res.setHeader(k, v);
    }
    res.write(head.subarray(end + 4));
  });
  cgi.on('close', () => res.end());
}

/** Serves the bare repositories under `root`. */
export async function startGitHttp(root: string): Promise<GitHttpServer> {
  const server = createServer((req, res) => serve(root, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => server.close(() => r())) };
}
