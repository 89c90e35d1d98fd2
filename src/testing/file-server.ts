/**
 * A plain HTTP server of a few files on 127.0.0.1 for ADD <url> tests: each path answers its text with a
 * fixed Last-Modified time (HEAD without a body), a redirect path answers 302 to its target, any other 404.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestFileServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  stop(): Promise<void>;
}

export const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

export async function startFileServer(files: Record<string, string | Buffer>, redirects: Record<string, string> = {}): Promise<TestFileServer> {
  const server = createServer((req, res) => {
    const to = redirects[req.url ?? ''];
    if (to !== undefined) {
      res.writeHead(302, { Location: to }).end();
      return;
    }
    const body = files[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('Last-Modified', LAST_MODIFIED);
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        // buildkitd and kiln may keep a connection alive: close() alone would wait for them.
        server.closeAllConnections();
      }),
  };
}
