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
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startFileServer, type TestFileServer } from '../../testing/file-server.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';

const FILES: Record<string, string> = { '/dl/a.txt': 'file a\n', '/dl/b.txt': 'file b\n', '/dl/data.txt': 'redirected\n' };
let fx: BuildkitWithBase | undefined;
let server: TestFileServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The three ADDs and the RUN. */
const STEPS = 4;

before(async () => {
  server = await startFileServer(FILES, { '/moved/data.txt': '/dl/data.txt' });
  const url = server.url;
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
  await server?.stop();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD of two URLs, of a redirected URL, with a symbolic --chmod, and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'add'), STEPS, path.join('all'), bkAll);
});

test("kiln's export → buildkitd with no cache of its own: the ADDs and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'add'), STEPS, path.join('all'), bkAll);
});
