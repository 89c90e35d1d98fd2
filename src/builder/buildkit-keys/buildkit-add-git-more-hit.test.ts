/**
 * The ADD git forms git-op.ts names beyond buildkit-add-git-hit.test.ts's, between a real buildkitd and kiln
 * (a bare repository served by `git http-backend` on 127.0.0.1, testing/git-server.ts): --keep-git-dir with no
 * ref (BuildKit keys the branch the remote's HEAD points at: `<commit>.git#refs/heads/main`), a `#ref:subdir`
 * fragment (the key gains `:sub`), and ADD --link of a repository (the copy onto scratch under BuildKit's merge),
 * then a RUN on them, through mode=max local caches both ways: every step CACHED, the other tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';
import { startGitServer, type TestGitServer } from '../../testing/git-server.js';

let fx: BuildkitWithBase | undefined;
let server: TestGitServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The three ADDs and the RUN. */
const STEPS = 4;

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-add-git-more-');
  server = await startGitServer();
  await server.commit('repo.git', { 'hello.txt': 'from git\n', 'sub/x.sh': 'echo x\n' });
  ctx = path.join(fx.tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${fx.base}`,
      `ADD --keep-git-dir=true ${server.url}/repo.git /kept`,
      `ADD ${server.url}/repo.git#main:sub /subdir`,
      `ADD --link ${server.url}/repo.git#main /linked`,
      'RUN test -d /kept/.git && cat /kept/hello.txt > /all && sh /subdir/x.sh >> /all && test ! -e /subdir/hello.txt && cat /linked/hello.txt >> /all && cat /proc/sys/kernel/random/uuid >> /all',
      '',
    ].join('\n'),
  );
  const r = await buildkitFirst(fx, ctx, 'git-more');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.match(bkAll, /^from git\nx\nfrom git\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await server?.stop();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD --keep-git-dir of the default branch, of a #ref:subdir, ADD --link of a repository and the RUN CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'git-more'), STEPS, 'all', bkAll);
});

test("kiln's export → buildkitd with no cache of its own: the three ADDs and the RUN reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'git-more'), STEPS, 'all', bkAll);
});
