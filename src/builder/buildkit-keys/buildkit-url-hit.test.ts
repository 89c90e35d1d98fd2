/**
 * ADD of an http URL (url-op.ts) against a real buildkitd and docker-registry,
 * the file served by a loopback HTTP server with a Last-Modified time: plain,
 * with --checksum, with --chmod, then a RUN on them. BuildKit's cache
 * (mode=max) → kiln on a fresh root: the three ADDs and the RUN CACHED,
 * BuildKit's files; kiln's --cache-to → a buildkitd that pruned its own
 * cache: every step reused, kiln's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cachedSteps } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';

const BODY = 'remote data\n';
let fx: BuildkitWithBase | undefined;
let server: Server;
let ctx: string;
let bkBoth: string;
let bkCache: string;

before(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/dl/data.txt') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT');
    res.end(req.method === 'HEAD' ? undefined : BODY);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dl/data.txt`;
  fx = await startBuildkitWithBase('kiln-bk-url-');
  const sum = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
  ctx = writeContext(fx, {
    Dockerfile:
      `FROM ${fx.base}\nADD ${url} /d/\nADD --checksum=${sum} ${url} /k/\nADD --chmod=640 ${url} /m\nRUN cat /d/data.txt /k/data.txt /m > /both && stat -c %a /m >> /both && cat /proc/sys/kernel/random/uuid >> /both\n`,
  });
  const r = await buildkitFirst(fx, ctx, 'url');
  bkCache = r.cache;
  bkBoth = readFileSync(path.join(r.out, 'both'), 'utf8');
  assert.match(bkBoth, /^remote data\nremote data\nremote data\n640\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  server?.close();
  await fx?.stop();
});

test("BuildKit's local cache (mode=max) → kiln on a fresh root: the three ADDs of a URL and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'url'), 4, 'both', bkBoth);
});

test("kiln's export (local, mode=max) → buildkitd with no cache of its own: the three ADDs and the RUN CACHED, kiln's files", async () => {
  const r = await kilnThenBuildkit(fx!, ctx, 'url');
  const kilnBoth = readFileSync(path.join(r.kiln.out, 'both'), 'utf8');
  assert.notEqual(kilnBoth, bkBoth, 'kiln ran its steps');
  // (BuildKit shows the http source under its ADD's name too, with a number of its own.)
  const steps = new Set(r.bk.stderr.split('\n').flatMap((l) => (/^#\d+ \[\d\/\d\] (ADD|RUN)/.test(l) ? [l.replace(/^#\d+ /, '')] : [])));
  assert.equal(steps.size, 4, r.bk.stderr);
  // The last step's lazy layers may show as pulls and DONE in place of CACHED (buildkit-hit.test.ts): the RUN's uuid says it did not run.
  assert.ok(cachedSteps(r.bk.stderr) >= 3, r.bk.stderr);
  assert.equal(readFileSync(path.join(r.bk.out, 'both'), 'utf8'), kilnBoth, "BuildKit used kiln's layers: no ADD nor the RUN ran");
});
