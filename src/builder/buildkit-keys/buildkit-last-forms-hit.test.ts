/**
 * The last COPY/ADD forms of issue 19 between a real buildkitd and kiln, files on a loopback file server and a
 * bare repository on a loopback git server, through mode=max local caches both ways (every step CACHED, the
 * other tool's files), in one stage long enough that the names of its records outgrow any enumeration (chains.ts:
 * more than 14 steps linked two ways, URL / heredoc / --from):
 * - ADD of one URL written twice (one input), of a wildcard beside a URL, of a wildcard matching an archive
 *   (unpacked by both), ADD --link, --exclude and a symbolic --chmod of local paths, ADD of two local files, ADD of a heredoc;
 * - ADD of a git subdir written `sub/` and `./sub` (BuildKit keys the text as written);
 * - a heredoc beside paths with --from (the paths from the other stage), --exclude (the patterns on every
 *   action), --parents, and ADD --checksum of a URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startFileServer, type TestFileServer } from '../../testing/file-server.js';
import { startGitServer, type TestGitServer } from '../../testing/git-server.js';
import { startBuildkitWithBase, type BuildkitWithBase } from '../../testing/buildkit-base.js';
import { assertBuildkitTookKiln, assertKilnTookBuildkit, buildkitFirst, kilnFrom, kilnThenBuildkit, writeContext } from '../../testing/buildkit-both-ways.js';

const FILES: Record<string, string> = { '/dl/a.txt': 'url a\n', '/dl/b.txt': 'url b\n', '/dl/c.txt': 'url c\n' };
let fx: BuildkitWithBase | undefined;
let files: TestFileServer | undefined;
let git: TestGitServer | undefined;
let ctx: string;
let bkAll: string;
let bkCache: string;

/** The target stage's 22 ADD and COPY steps (15 linked two ways) and its RUN, and the other stage's RUN. */
const STEPS = 24;

/** What the RUN writes, the uuid aside. */
const EXPECTED = [
  'url a', 'url a', 'local one', 'local two', 'url b', 'in the archive', 'from git', 'from git', 'other', 'beside from',
  'doc', 'beside exclude', 'y', 'beside parents', 'url c', 'beside checksum', 'five', 'o two', 'url b', 'six', 'other',
  'local one', 'local one', 'local two', 'added heredoc', 'local two', 'doc', 'url c', 'seven',
].join('\n') + '\n';

before(async () => {
  files = await startFileServer(FILES);
  git = await startGitServer();
  await git.commit('repo.git', { 'hello.txt': 'top\n', 'sub/x.txt': 'from git\n' });
  fx = await startBuildkitWithBase('kiln-bk-last-forms-');
  const u = files.url;
  const sumC = 'sha256:' + createHash('sha256').update(FILES['/dl/c.txt']!).digest('hex');
  ctx = writeContext(fx, {
    'local1.txt': 'local one\n',
    'local2.txt': 'local two\n',
    'inner.txt': 'in the archive\n',
    'docs/doc.txt': 'doc\n',
    'docs/skip.md': 'skipped\n',
    'dir/x/y.txt': 'y\n',
    Dockerfile: [
      `FROM ${fx.base} AS other`,
      'RUN echo other > /other.txt && mkdir /o && echo "o two" > /o/two.txt',
      `FROM ${fx.base}`,
      `ADD ${u}/dl/a.txt ${u}/dl/a.txt /u1/`,
      `ADD ${u}/dl/a.txt /u2/`,
      `ADD local*.txt ${u}/dl/b.txt /u3/`,
      'ADD arc*.tar /t/',
      `ADD ${git.url}/repo.git#main:sub/ /g1/`,
      `ADD ${git.url}/repo.git#main:./sub /g2/`,
      'COPY --from=other /other.txt <<FRM /h1/',
      'beside from',
      'FRM',
      'COPY --exclude=*.md docs/ <<EXCL /h2/',
      'beside exclude',
      'EXCL',
      'COPY --parents dir/./x/y.txt <<PAR /h3/',
      'beside parents',
      'PAR',
      `ADD --checksum=${sumC} ${u}/dl/c.txt <<SUM /h4/`,
      'beside checksum',
      'SUM',
      'COPY <<EOF /s/five',
      'five',
      'EOF',
      'COPY --from=other /o/two.txt /f1/',
      `ADD ${u}/dl/b.txt /u4/`,
      'COPY <<EOF /s/six',
      'six',
      'EOF',
      'COPY --from=other /other.txt /f2/',
      'ADD --link local1.txt /k/',
      'ADD local1.txt local2.txt /m/',
      'ADD <<ADDH /ah/',
      'added heredoc',
      'ADDH',
      'ADD --chmod=u+x,go-w local2.txt /sym/',
      'ADD --exclude=*.md docs/ /e/',
      `ADD ${u}/dl/c.txt /u5/`,
      'COPY <<EOF /s/seven',
      'seven',
      'EOF',
      [
        'RUN cat /u1/a.txt /u2/a.txt /u3/local1.txt /u3/local2.txt /u3/b.txt /t/inner.txt /g1/x.txt /g2/x.txt',
        '/h1/other.txt /h1/FRM /h2/doc.txt /h2/EXCL /h3/x/y.txt /h3/PAR /h4/c.txt /h4/SUM /s/five /f1/two.txt /u4/b.txt /s/six',
        '/f2/other.txt /k/local1.txt /m/local1.txt /m/local2.txt /ah/ADDH /sym/local2.txt /e/doc.txt /u5/c.txt /s/seven > /all',
        '&& test ! -e /h2/skip.md && test ! -e /e/skip.md && test ! -e /g1/hello.txt && test ! -e /t/arc.tar && test -x /sym/local2.txt',
        '&& cat /proc/sys/kernel/random/uuid >> /all',
      ].join(' '),
      '',
    ].join('\n'),
  }, 'last-forms');
  chmodSync(path.join(ctx, 'inner.txt'), 0o644);
  execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', 'arc.tar', 'inner.txt'], { cwd: ctx });
  execFileSync('rm', ['inner.txt'], { cwd: ctx });
  const r = await buildkitFirst(fx, ctx, 'last-forms');
  bkCache = r.cache;
  bkAll = readFileSync(path.join(r.out, 'all'), 'utf8');
  assert.equal(bkAll.slice(0, EXPECTED.length), EXPECTED);
  assert.match(bkAll.slice(EXPECTED.length), /^[0-9a-f-]{36}\n$/);
});

after(async () => {
  await files?.stop();
  await git?.stop();
  await fx?.stop();
});

test("BuildKit's cache → kiln on a fresh root: a URL twice, a wildcard beside a URL, an archive by wildcard, git subdirs `sub/` and `./sub`, heredocs beside paths with --from, --exclude, --parents, --checksum, ADD --link, --exclude, --chmod=u+x,go-w and of two files, ADD <<EOF, 15 steps linked two ways in one stage: every step CACHED, BuildKit's files", async () => {
  assertKilnTookBuildkit(await kilnFrom(fx!, ctx, bkCache, 'last-forms'), STEPS, 'all', bkAll);
});

test("kiln's export → buildkitd with no cache of its own: every step reused, kiln's files", async () => {
  assertBuildkitTookKiln(await kilnThenBuildkit(fx!, ctx, 'last-forms'), STEPS, 'all', bkAll);
});
