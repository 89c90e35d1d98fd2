/**
 * ADD of a git repository (git-op.ts) between a real buildkitd and kiln: a
 * bare repository served by `git http-backend` on 127.0.0.1 (testing/git-server.ts),
 * added at a branch and, with --keep-git-dir, at an annotated tag (BuildKit
 * keys that by the tag object and refs/tags/v1), then a RUN on them, through
 * mode=max local caches both ways: every step CACHED, the other tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';
import { startGitServer, type TestGitServer } from '../../testing/git-server.js';

let fx: BuildkitWithBase | undefined;
let server: TestGitServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The two ADDs and the RUN. */
const STEPS = 3;

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-add-git-');
  server = await startGitServer();
  await server.commit('repo.git', { 'hello.txt': 'from git\n', 'sub/x.sh': 'echo x\n' }, { tag: 'v1' });
  ctx = writeContext(fx, {
    Dockerfile: [
      `FROM ${fx.base}`,
      `ADD ${server.url}/repo.git#main /src`,
      `ADD --keep-git-dir=true ${server.url}/repo.git#v1 /kept`,
      'RUN cat /src/hello.txt > /all && sh /src/sub/x.sh >> /all && test -d /kept/.git && cat /kept/hello.txt >> /all && cat /proc/sys/kernel/random/uuid >> /all',
      '',
    ].join('\n'),
  });
  const r = await buildkitFirst(fx, ctx, 'git');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.match(bkAll, /^from git\nx\nfrom git\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await server?.stop();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD of a git branch, ADD --keep-git-dir of an annotated tag and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'git'), STEPS, path.join('all'), bkAll);
});

test("kiln's export → buildkitd with no cache of its own: both ADDs and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'git'), STEPS, path.join('all'), bkAll);
});
