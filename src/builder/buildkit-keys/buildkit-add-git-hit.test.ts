/**
 * ADD of a git repository (git-op.ts) between a real buildkitd and kiln: a
 * bare repository served by `git http-backend` on 127.0.0.1 (testing/git-http.ts),
 * added at a branch and, with --keep-git-dir, at an annotated tag (BuildKit
 * keys that by the tag object and refs/tags/v1), then a RUN on them, through
 * mode=max local caches both ways: every step CACHED, the other tool's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildctlReused, cachedSteps, stepLines } from '../../testing/buildctl-steps.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { buildkitFirst, kilnFrom, kilnThenBuildkit } from '../../testing/buildkit-both-ways.js';
import { startGitHttp, type GitHttpServer } from '../../testing/git-http.js';

let fx: BuildkitWithBase | undefined;
let server: GitHttpServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The two ADDs and the RUN. */
const STEPS = 3;

function makeRepo(root: string): void {
  const work = path.join(root, 'work');
  const git = (args: string[], cwd = work) => execFileSync('git', ['-c', 'user.email=t@example.invalid', '-c', 'user.name=t', ...args], { cwd, stdio: 'pipe' });
  mkdirSync(work, { recursive: true });
  git(['init', '-q', '-b', 'main', work], root);
  writeFileSync(path.join(work, 'hello.txt'), 'from git\n');
  mkdirSync(path.join(work, 'sub'));
  writeFileSync(path.join(work, 'sub', 'x.sh'), '#!/bin/sh\necho x\n', { mode: 0o755 });
  git(['add', '.']);
  git(['commit', '-qm', 'one']);
  git(['tag', '-a', 'v1', '-m', 'v1']);
  git(['clone', '-q', '--bare', work, path.join(root, 'repo.git')], root);
}

before(async () => {
  fx = await startBuildkitWithBase('kiln-bk-add-git-');
  const repos = path.join(fx.tmp, 'repos');
  makeRepo(repos);
  server = await startGitHttp(repos);
  ctx = path.join(fx.tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      `FROM ${fx.base}`,
      `ADD ${server.url}/repo.git#main /src`,
      `ADD --keep-git-dir=true ${server.url}/repo.git#v1 /kept`,
      'RUN cat /src/hello.txt > /all && /src/sub/x.sh >> /all && test -d /kept/.git && cat /kept/hello.txt >> /all && cat /proc/sys/kernel/random/uuid >> /all',
      '',
    ].join('\n'),
  );
  const r = await buildkitFirst(fx, ctx, 'git');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.match(bkAll, /^from git\nx\nfrom git\n[0-9a-f-]{36}\n$/);
});

after(async () => {
  await server?.close();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: ADD of a git branch, ADD --keep-git-dir of an annotated tag and the RUN CACHED, BuildKit's files", async () => {
  const r = await kilnFrom(fx!, ctx, bkCache, 'git');
  assert.equal(cachedSteps(r.stderr), STEPS, stepLines(r.stderr).join('\n'));
  assert.equal(readFileSync(path.join(r.out, 'all'), 'utf8'), bkAll, 'the layers are the ones BuildKit made: nothing ran');
});

test("kiln's export → buildkitd with no cache of its own: both ADDs and the RUN reused, kiln's files", async () => {
  const { kiln, bk } = await kilnThenBuildkit(fx!, ctx, 'git');
  const kilnAll = readFileSync(path.join(kiln.out, 'all'), 'utf8');
  assert.notEqual(kilnAll, bkAll, 'kiln ran its steps (no --cache-from)');
  assert.equal(buildctlReused(bk.stderr), STEPS, bk.stderr);
  assert.equal(readFileSync(path.join(bk.out, 'all'), 'utf8'), kilnAll, "BuildKit used kiln's layers");
});
