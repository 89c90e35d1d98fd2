/**
 * ADD of a git repository (git-op.ts) between a real buildkitd and kiln: a
 * bare repository served by `git http-backend` on 127.0.0.1 (testing/git-server.ts),
 * then a RUN on what was added, through mode=max local caches both ways: every
 * step CACHED, the other tool's files. Two Dockerfiles on one buildkitd:
 * - `git`: a branch, and --keep-git-dir at an annotated tag (BuildKit keys that
 *   by the tag object and refs/tags/v1);
 * - `git-more`: --keep-git-dir with no ref (BuildKit keys the branch the remote's
 *   HEAD points at: `<commit>.git#refs/heads/main`), a `#ref:subdir` fragment
 *   (the key gains `:sub`), and ADD --link of a repository (the copy onto
 *   scratch under BuildKit's merge).
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

/** One Dockerfile's context, its step count and BuildKit's cache and files. */
interface Case {
  ctx: string;
  steps: number;
  bkCache: string;
  bkAll: string;
}
const cases: Record<'git' | 'git-more', Case> = {} as Record<'git' | 'git-more', Case>;

async function buildkitCase(name: 'git' | 'git-more', steps: number, lines: string[]): Promise<void> {
  const ctx = writeContext(fx!, { Dockerfile: [`FROM ${fx!.base}`, ...lines, ''].join('\n') }, name);
  const r = await buildkitFirst(fx!, ctx, name);
  const bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.match(bkAll, /^from git\nx\nfrom git\n[0-9a-f-]{36}\n$/);
  cases[name] = { ctx, steps, bkCache: r.cache, bkAll };
}

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-add-git-');
  server = await startGitServer();
  await server.commit('repo.git', { 'hello.txt': 'from git\n', 'sub/x.sh': 'echo x\n' }, { tag: 'v1' });
  await buildkitCase('git', 3, [
    `ADD ${server.url}/repo.git#main /src`,
    `ADD --keep-git-dir=true ${server.url}/repo.git#v1 /kept`,
    'RUN cat /src/hello.txt > /all && sh /src/sub/x.sh >> /all && test -d /kept/.git && cat /kept/hello.txt >> /all && cat /proc/sys/kernel/random/uuid >> /all',
  ]);
  await buildkitCase('git-more', 4, [
    `ADD --keep-git-dir=true ${server.url}/repo.git /kept`,
    `ADD ${server.url}/repo.git#main:sub /subdir`,
    `ADD --link ${server.url}/repo.git#main /linked`,
    'RUN test -d /kept/.git && cat /kept/hello.txt > /all && sh /subdir/x.sh >> /all && test ! -e /subdir/hello.txt && cat /linked/hello.txt >> /all && cat /proc/sys/kernel/random/uuid >> /all',
  ]);
});

after(async () => {
  await server?.stop();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD of a git branch, ADD --keep-git-dir of an annotated tag and the RUN CACHED, BuildKit's files", async () => {
  const c = cases.git;
  assertKilnTookBuildkit(await kilnFrom(fx!, c.ctx, c.bkCache, 'git'), c.steps, 'all', c.bkAll);
});

test("kiln's export → buildkitd with no cache of its own: both ADDs and the RUN reused, kiln's files", async () => {
  const c = cases.git;
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, c.ctx, 'git'), c.steps, 'all', c.bkAll);
});

test("BuildKit's cache → kiln on a fresh root: ADD --keep-git-dir of the default branch, of a #ref:subdir, ADD --link of a repository and the RUN CACHED, BuildKit's files", async () => {
  const c = cases['git-more'];
  assertKilnTookBuildkit(await kilnFrom(fx!, c.ctx, c.bkCache, 'git-more'), c.steps, 'all', c.bkAll);
});

test("kiln's export → buildkitd with no cache of its own: the three ADDs and the RUN reused, kiln's files", async () => {
  const c = cases['git-more'];
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, c.ctx, 'git-more'), c.steps, 'all', c.bkAll);
});
