/**
 * Git sources with the real git against a bare repository served by git's smart
 * HTTP on 127.0.0.1 (src/testing/git-server.ts): `kiln build URL#ref:subdir`,
 * `ADD URL#ref /dst` with and without --keep-git-dir, --checksum (the commit),
 * the cache (a new commit on the branch is a miss, the same commit a hit); and
 * how URLs are recognised and split.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startGitServer, type TestGitServer } from '../testing/git-server.js';
import { buildFixture, type BuildFixture } from './test-support.js';
import { isGitUrl, parseGitUrl } from './git.js';

let fx: BuildFixture;
let srv: TestGitServer;
let first: string;

before(async () => {
  fx = await buildFixture('kiln-git-');
  srv = await startGitServer();
  first = await srv.commit('app.git', {
    'README': 'root readme\n',
    'svc/Dockerfile': 'FROM busybox\nCOPY . /src/\nRUN cat /src/msg.txt > /msg\n',
    'svc/msg.txt': 'from main\n',
  });
  await srv.commit('app.git', { 'svc/msg.txt': 'from the dev branch\n' }, { branch: 'dev', tag: 'v1' });
});

after(async () => {
  await srv?.stop();
  await fx?.cleanup();
});

test('git URLs are recognised and split as BuildKit does', () => {
  for (const u of ['https://h/r.git', 'http://h:8080/a/r.git#main', 'git@github.com:o/r.git#v1:sub', 'ssh://git@h/o/r', 'git://h/r#x']) assert.ok(isGitUrl(u), u);
  for (const u of ['https://h/file.tar.gz', 'https://h/r.git.tar', '.', 'ctx/dir', 'http://h/Dockerfile']) assert.ok(!isGitUrl(u), u);
  assert.deepEqual(parseGitUrl('https://h/r.git#dev:svc/api'), { remote: 'https://h/r.git', ref: 'dev', subdir: 'svc/api' });
  assert.deepEqual(parseGitUrl('git@github.com:o/r.git#v1'), { remote: 'git@github.com:o/r.git', ref: 'v1', subdir: '' });
  assert.deepEqual(parseGitUrl('https://h/r.git#:svc/'), { remote: 'https://h/r.git', ref: undefined, subdir: 'svc' });
  assert.throws(() => parseGitUrl('https://h/r.git#main:../x'), /leaves the repository/);
});

test('kiln build URL#ref:subdir builds that subdirectory of that ref, as docker does', async () => {
  const out = path.join(fx.tmp, 'out-ctx');
  await fx.buildOk(['-q', '-o', `type=local,dest=${out}`, `${srv.url}/app.git#main:svc`]);
  assert.equal(readFileSync(path.join(out, 'msg'), 'utf8'), 'from main\n');
  assert.ok(!existsSync(path.join(out, 'src/README')), 'the context is the subdirectory');
  assert.ok(!existsSync(path.join(out, 'src/.git')), 'no .git in a git context');
  const dev = path.join(fx.tmp, 'out-dev');
  await fx.buildOk(['-q', '-o', `type=local,dest=${dev}`, `${srv.url}/app.git#dev:svc`]);
  assert.equal(readFileSync(path.join(dev, 'msg'), 'utf8'), 'from the dev branch\n');
  const missing = await fx.build(['-q', `${srv.url}/app.git#nope:svc`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^kiln: http:\/\/127\.0\.0\.1:\d+\/app\.git: no branch or tag nope/);
  for (const sub of ['nowhere', 'README', 'README/x']) {
    const notDir = await fx.build(['-q', `${srv.url}/app.git#main:${sub}`]);
    assert.equal(notDir.code, 1, sub);
    assert.match(notDir.stderr, new RegExp(`^kiln: http://127\\.0\\.0\\.1:\\d+/app\\.git: no directory ${sub} at [0-9a-f]{12}`), sub);
  }
});

test('ADD of a git URL copies the tree at the ref; --keep-git-dir keeps .git; --checksum is the commit; a new commit is a cache miss', async () => {
  const ctx = fx.context({
    Dockerfile: `FROM busybox\nADD ${srv.url}/app.git#main /repo\nADD --keep-git-dir=true ${srv.url}/app.git#v1 /tagged\nADD --checksum=${first} ${srv.url}/app.git#main /pinned\n`,
  });
  const out = path.join(fx.tmp, 'out-add');
  const a = await fx.buildOk(['--progress=plain', '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(readFileSync(path.join(out, 'repo/README'), 'utf8'), 'root readme\n');
  assert.equal(readFileSync(path.join(out, 'repo/svc/msg.txt'), 'utf8'), 'from main\n');
  assert.ok(!existsSync(path.join(out, 'repo/.git')));
  assert.equal(readFileSync(path.join(out, 'tagged/svc/msg.txt'), 'utf8'), 'from the dev branch\n', 'the tag v1');
  assert.ok(existsSync(path.join(out, 'tagged/.git/HEAD')), `--keep-git-dir: ${a.stderr}`);
  assert.equal(readFileSync(path.join(out, 'pinned/svc/msg.txt'), 'utf8'), 'from main\n');

  const again = await fx.buildOk(['--progress=plain', ctx]);
  assert.equal(again.stderr.split('\n').filter((l) => /^#\d+ CACHED$/.test(l)).length, 3, again.stderr);
  await srv.commit('app.git', { 'svc/msg.txt': 'main moved on\n' });
  const unpinned = fx.context({ Dockerfile: `FROM busybox\nADD ${srv.url}/app.git#main /repo\n` });
  const moved = await fx.buildOk(['--progress=plain', '-o', `type=local,dest=${path.join(fx.tmp, 'out-moved')}`, unpinned]);
  assert.match(moved.stderr, /ADD http:\S+#main \/repo\n#\d+ DONE/, 'the branch moved: the step runs again');
  const pinned = await fx.build(['-q', ctx]);
  assert.match(pinned.stderr, /^kiln: Dockerfile:4: ADD \S+#main: checksum mismatch: got [0-9a-f]{40}, expected [0-9a-f]{40}/m, 'main moved away from the pinned commit');
  assert.equal(readFileSync(path.join(fx.tmp, 'out-moved', 'repo/svc/msg.txt'), 'utf8'), 'main moved on\n');

  const bad = await fx.build(['-q', fx.context({ Dockerfile: `FROM busybox\nADD --checksum=${'0'.repeat(40)} ${srv.url}/app.git#main /x\n` })]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`^kiln: Dockerfile:2: ADD \\S+app\\.git#main: checksum mismatch: got [0-9a-f]{40}, expected ${'0'.repeat(40)}`));
  await fx.assertNoLeftovers();
});
