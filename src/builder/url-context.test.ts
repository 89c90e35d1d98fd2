/**
 * `kiln build URL`: the context as a (gzipped) tar, or a lone Dockerfile,
 * served over http by a server on 127.0.0.1; a URL that answers 404 is one line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let server: Server;
let base: string;
const files = new Map<string, Buffer>();

before(async () => {
  fx = await buildFixture('kiln-build-url-');
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copied.txt\n', 'hello.txt': 'served over http\n' });
  files.set('/ctx.tar.gz', execFileSync('tar', ['-czf', '-', '-C', ctx, '.']));
  files.set('/Dockerfile', Buffer.from('FROM busybox\nRUN echo "no context" > /note.txt\n'));
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end('not here');
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await fx?.cleanup();
});

test('a gzipped context tar from a URL builds like a directory', async () => {
  const out = path.join(fx.tmp, 'out-tar');
  await fx.buildOk(['-q', '-t', 'url/tar:1', '-o', `type=local,dest=${out}`, `${base}/ctx.tar.gz`]);
  assert.equal(readFileSync(path.join(out, 'hello.txt'), 'utf8'), 'served over http\n');
  assert.equal(readFileSync(path.join(out, 'copied.txt'), 'utf8'), 'served over http\n');
});

test('a URL serving a Dockerfile builds without a context', async () => {
  const out = path.join(fx.tmp, 'out-df');
  await fx.buildOk(['-q', '-t', 'url/df:1', '-o', `type=local,dest=${out}`, `${base}/Dockerfile`]);
  assert.equal(readFileSync(path.join(out, 'note.txt'), 'utf8'), 'no context\n');
});

test('a URL that answers 404 is one line naming it, exit 1', async () => {
  const r = await fx.build(['-t', 'url/none:1', `${base}/missing.tar`]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`${base}/missing\\.tar: HTTP 404`));
});
