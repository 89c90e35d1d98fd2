/**
 * ADD of http URLs beyond one plain URL (url-op.ts), between a real buildkitd
 * and kiln, files served on 127.0.0.1 with a Last-Modified time: two URLs in
 * one ADD (a file op with one input per URL), a URL redirected to another
 * path with the same file name (BuildKit names the file after the URL written
 * and keys its bytes: the redirect is not in the key), and a symbolic --chmod
 * (`modeStr`), then a RUN on them, through mode=max local caches both ways:
 * every step CACHED, the other tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';

const FILES: Record<string, string> = { '/dl/a.txt': 'file a\n', '/dl/b.txt': 'file b\n', '/dl/data.txt': 'redirected\n' };
let fx: BuildkitWithBase | undefined;
let server: Server | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The three ADDs and the RUN. */
const STEPS = 4;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/moved/data.txt') {
      res.writeHead(302, { Location: '/dl/data.txt' }).end();
      return;
    }
    const body = FILES[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT');
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fx = await startBuildkitWithBase('kiln-bk-add-forms-');
  ctx = writeContext(fx, {
    Dockerfile: [
      `FROM ${fx.base}`,
      `ADD ${url}/dl/a.txt ${url}/dl/b.txt /two/`,
      `ADD ${url}/moved/data.txt /r/`,
      `ADD --chmod=u+x,g+r ${url}/dl/a.txt /sym`,
      'RUN cat /two/a.txt /two/b.txt /r/data.txt > /all && stat -c %a /sym >> /all && cat /proc/sys/kernel/random/uuid >> /all',
      '',
    ].join('\n'),
  });
  const r = await buildkitFirst(fx, ctx, 'add');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.match(bkAll, /^file a\nfile b\nredirected\n740\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  server?.close();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD of two URLs, of a redirected URL, with a symbolic --chmod, and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'add'), STEPS, path.join('all'), bkAll);
});

test("kiln's export → buildkitd with no cache of its own: the ADDs and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'add'), STEPS, path.join('all'), bkAll);
});
