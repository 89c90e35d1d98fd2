/**
 * COPY and ADD with sources of several kinds in one instruction (copy-mixed.ts)
 * and ADD of a URL redirected to another file name (remote.ts urlFileName),
 * between a real buildkitd and kiln, files served on 127.0.0.1 with a
 * Last-Modified time: a URL then a context file, a context file then a URL,
 * a redirect to /dl/other.txt (BuildKit names the file after the URL written:
 * data.txt, and so does kiln), two heredocs in one COPY, a file beside a
 * heredoc, a heredoc to a file path, a heredoc with --link, a heredoc with
 * --from (not an input of the heredoc's copy), then a RUN on them all,
 * through mode=max local caches both ways: every step CACHED, the other
 * tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startFileServer, type TestFileServer } from '../../testing/file-server.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';

const FILES: Record<string, string> = { '/dl/a.txt': 'url a\n', '/dl/b.txt': 'url b\n', '/dl/other.txt': 'redirected\n' };
let fx: BuildkitWithBase | undefined;
let server: TestFileServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The three ADDs, the five heredoc COPYs and the RUN of the target (the other stage's RUN is no step of its chain). */
const STEPS = 9;

/** What the RUN writes, the uuid aside. */
const EXPECTED = ['url a', 'local', 'local 2', 'url b', 'redirected', 'one', 'two', 'local', 'beside', 'conf', 'linked', 'not from'].join('\n') + '\n';

before(async () => {
  server = await startFileServer(FILES, { '/moved/data.txt': '/dl/other.txt' });
  const url = server.url;
  fx = await startBuildkitWithBase('kiln-bk-copy-sources-');
  ctx = path.join(fx.tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'local.txt'), 'local\n');
  writeFileSync(path.join(ctx, 'local2.txt'), 'local 2\n');
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${fx.base} AS other`,
      'RUN echo other > /other.txt',
      `FROM ${fx.base}`,
      `ADD ${url}/dl/a.txt local.txt /m1/`,
      `ADD local2.txt ${url}/dl/b.txt /m2/`,
      `ADD ${url}/moved/data.txt /r/`,
      'COPY <<ONE <<TWO /h/',
      'one',
      'ONE',
      'two',
      'TWO',
      'COPY local.txt <<BESIDE /b/',
      'beside',
      'BESIDE',
      'COPY <<EOF /etc/kiln.conf',
      'conf',
      'EOF',
      'COPY --from=other <<EOF /f/from.txt',
      'not from',
      'EOF',
      'COPY --link <<EOF /l/linked.txt',
      'linked',
      'EOF',
      'RUN cat /m1/a.txt /m1/local.txt /m2/local2.txt /m2/b.txt /r/data.txt /h/ONE /h/TWO /b/local.txt /b/BESIDE /etc/kiln.conf /l/linked.txt /f/from.txt > /all && cat /proc/sys/kernel/random/uuid >> /all',
      '',
    ].join('\n'),
  );
  const r = await buildkitFirst(fx, ctx, 'sources');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.equal(bkAll.slice(0, EXPECTED.length), EXPECTED);
  assert.match(bkAll.slice(EXPECTED.length), /^[0-9a-f-]{36}\n$/);
});

after(async () => {
  await server?.stop();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD of a URL and a file (both orders), of a URL redirected to another name, COPY of two heredocs, a file and a heredoc, a heredoc to a path, with --link, with --from, and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'sources'), STEPS, 'all', bkAll);
});

test("kiln's export → buildkitd with no cache of its own: every ADD and COPY and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'sources'), STEPS, 'all', bkAll);
});
