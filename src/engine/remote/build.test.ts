/**
 * `kiln --host … build` end to end: a real `kiln agent` child process (its
 * local engine, busybox imported) over TCP with mutual TLS on loopback, the
 * CLI as a user runs it. What is uploaded is read from --metadata-file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startAgent, type TestAgent } from '../../testing/agent.js';
import { kiln, kilnBin, kilnOk, type RunResult } from '../../testing/kiln.js';
import { buildFixture, type BuildFixture } from '../../builder/test-support.js';
import { Runc } from '../../runtime/runc.js';

let fx: BuildFixture;
let agent: TestAgent;
let env: Record<string, string>;
let clientRoot: string;

before(async () => {
  fx = await buildFixture('kiln-rbuild-');
  agent = await startAgent({ root: fx.root });
  clientRoot = path.join(fx.tmp, 'client');
  env = { ...agent.clientEnv, XDG_CACHE_HOME: path.join(fx.tmp, 'client-cache') };
});
after(async () => {
  await agent?.stop();
  if (fx) await unmountUnder(fx.tmp);
  await fx?.cleanup();
});

const remote = (args: string[], extra: Record<string, string> = {}): Promise<RunResult> => kiln(args, { root: clientRoot, env: { ...env, ...extra } });
const remoteOk = (args: string[], extra: Record<string, string> = {}): Promise<RunResult> => kilnOk(args, { root: clientRoot, env: { ...env, ...extra } });

function uploaded(meta: string): { files: number; bytes: number; manifestBytes: number } {
  return JSON.parse(readFileSync(meta, 'utf8'))['kiln.context.upload'];
}

/** The agent's synced copies of client contexts. */
const syncedDirs = () => readdirSync(path.join(fx.root, 'agent', 'contexts')).map((id) => path.join(fx.root, 'agent', 'contexts', id, 'ctx'));

/** Polls until the agent has cleaned up after a build (it does so after the client has gone). */
async function agentLeftNothing(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fx.assertNoLeftovers();
      const builds = path.join(fx.root, 'agent', 'builds');
      assert.deepEqual(existsSync(builds) ? readdirSync(builds) : [], [], 'build scratch folders (Dockerfile, secrets) left behind');
      for (const id of readdirSync(path.join(fx.root, 'agent', 'contexts'))) {
        assert.ok(!existsSync(path.join(fx.root, 'agent', 'contexts', id, 'lock')), 'context lock left behind');
      }
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

test('remote build: RUN + COPY on the agent, listed by the remote images, the same image ID as a local build; a second build uploads only the changed file; ignored files never leave', async () => {
  const big = 'x'.repeat(200_000);
  const ctx = fx.context({
    Dockerfile: 'FROM busybox\nCOPY app/ /app/\nRUN cat /app/a.txt && wc -c /app/big.bin > /app/size\n',
    'app/a.txt': 'version 1\n',
    'app/big.bin': big,
    'app/private.key': 'NEVER-SENT-KEY',
    '.dockerignore': '**/*.key\n',
  });
  const sde = { SOURCE_DATE_EPOCH: '1700000000' };
  const meta = path.join(fx.tmp, 'meta1.json');
  const r = await remoteOk(['build', '--progress=plain', '-t', 'rapp:1', '--metadata-file', meta, ctx], sde);
  const id = r.stdout.trim();
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.match(r.stderr, /#1 \[internal\] load build context\n#1 [\d.]+ transferring context: /);
  assert.match(r.stderr, /#4 [\d.]+ version 1\n/, 'the RUN output comes back, numbered after the context step');
  const first = uploaded(meta);
  const dockerfile = readFileSync(path.join(ctx, 'Dockerfile'), 'utf8');
  assert.equal(first.files, 4, 'Dockerfile, .dockerignore, a.txt, big.bin');
  assert.equal(first.bytes, dockerfile.length + '**/*.key\n'.length + 'version 1\n'.length + big.length);
  for (const d of syncedDirs()) assert.ok(!existsSync(path.join(d, 'app/private.key')), 'an ignored file is not on the agent');

  const images = await remoteOk(['images', '--format', 'json']);
  const row = (JSON.parse(images.stdout) as { id?: string; Id?: string; repoTags?: string[] }[]).find((i) => JSON.stringify(i).includes('rapp'));
  assert.ok(row && JSON.stringify(row).includes(id.slice(7, 19)), images.stdout);

  // The same build with the local engine on the same store (no cache: it really runs) gives the same image.
  const local = await fx.buildOk(['-q', '--no-cache', ctx], undefined, sde);
  assert.equal(local.stdout.trim(), id);

  writeFileSync(path.join(ctx, 'app/a.txt'), 'version 2\n');
  const meta2 = path.join(fx.tmp, 'meta2.json');
  const r2 = await remoteOk(['build', '--progress=plain', '-t', 'rapp:2', '--metadata-file', meta2, ctx]);
  const second = uploaded(meta2);
  assert.deepEqual([second.files, second.bytes], [1, 'version 2\n'.length]);
  assert.ok(second.manifestBytes < 2000, `manifest ${second.manifestBytes} bytes`);
  assert.match(r2.stderr, /version 2/);
  const dbg = await remoteOk(['--debug', 'build', '-q', ctx]);
  assert.match(dbg.stderr, /debug: context upload: 0 bytes in 0 file\(s\), manifest \d+ bytes/);

  // The agent lost the manifest the client's changes are against: it asks for the whole one, and the build is right.
  for (const d of syncedDirs()) rmSync(path.join(path.dirname(d), 'manifest.json'), { force: true });
  writeFileSync(path.join(ctx, 'app/a.txt'), 'version 3\n');
  const meta3 = path.join(fx.tmp, 'meta3.json');
  const r3 = await remoteOk(['build', '--progress=plain', '--secret', 'id=unused,env=TOK', '--metadata-file', meta3, ctx], { TOK: 'x' });
  assert.match(r3.stderr, /version 3/);
  const third = uploaded(meta3);
  assert.deepEqual([third.files, third.bytes], [1, 'version 3\n'.length]);
  assert.ok(third.manifestBytes > second.manifestBytes, 'the whole manifest went again');
});

test('remote build: a no-change rebuild gives the same image; a file or the Dockerfile changed between two remote builds gives the changed image, and changing back the first one', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt\n', 'a.txt': 'one\n' });
  const build = async (): Promise<{ id: string; log: string; files: number }> => {
    const meta = path.join(fx.tmp, 'nc-meta.json');
    const r = await remoteOk(['build', '--progress=plain', '-t', 'nc:1', '--metadata-file', meta, ctx]);
    assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    return { id: r.stdout.trim(), log: r.stderr, files: uploaded(meta).files };
  };
  const first = await build();
  assert.match(first.log, /#\d+ [\d.]+ one\n/);
  const same = await build();
  assert.deepEqual([same.id, same.files], [first.id, 0], 'nothing changed: the same image, nothing uploaded');
  assert.doesNotMatch(same.log, /#\d+ [\d.]+ one\n/, 'every step a cache hit: the RUN did not run');

  writeFileSync(path.join(ctx, 'a.txt'), 'two\n');
  const changed = await build();
  assert.notEqual(changed.id, first.id, 'a changed file gives another image');
  assert.match(changed.log, /#\d+ [\d.]+ two\n/, 'the RUN saw the new file');
  assert.equal(changed.files, 1);

  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt && echo dockerfile-2\n');
  const df = await build();
  assert.notEqual(df.id, changed.id, 'a changed Dockerfile gives another image');
  assert.match(df.log, /#\d+ [\d.]+ dockerfile-2\n/);

  writeFileSync(path.join(ctx, 'a.txt'), 'one\n');
  writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt\n');
  const back = await build();
  assert.equal(back.id, first.id, 'back to the first context: the first image again');
  await agentLeftNothing();
});

test('remote build: after a no-change build (the walk fingerprint matched), a changed mode, a renamed file, a changed .dockerignore, a file rewritten with its size and mtime kept, or a changed Dockerfile gives the right image; an agent that lost its manifest gets the kept one', async () => {
  const dockerfile = 'FROM busybox\nCOPY . /c/\nRUN cd /c && stat -c \'%n %a\' * && cat *.txt\n';
  const ctx = fx.context({ Dockerfile: dockerfile, 'a.txt': 'one\n', 'b.sh': 'echo b\n' });
  const build = async (): Promise<{ id: string; log: string; files: number; manifestBytes: number }> => {
    const meta = path.join(fx.tmp, 'fp-meta.json');
    const r = await remoteOk(['build', '--progress=plain', '-t', 'fp:1', '--metadata-file', meta, ctx]);
    assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const up = uploaded(meta);
    return { id: r.stdout.trim(), log: r.stderr, files: up.files, manifestBytes: up.manifestBytes };
  };
  /** A build, then a no-change build: the same image, nothing sent but the start. */
  const buildTwice = async () => {
    const b = await build();
    const same = await build();
    assert.deepEqual([same.id, same.files], [b.id, 0], 'no change: the same image, nothing uploaded');
    assert.ok(same.manifestBytes < 2000, `no entries sent: ${same.manifestBytes} bytes`);
    return b;
  };
  const first = await buildTwice();
  assert.match(first.log, /a\.txt 644\n/);
  assert.match(first.log, /b\.sh 644\n/);

  chmodSync(path.join(ctx, 'a.txt'), 0o755);
  const mode = await buildTwice();
  assert.notEqual(mode.id, first.id, 'a changed mode gives another image');
  assert.match(mode.log, /a\.txt 755\n/);

  renameSync(path.join(ctx, 'b.sh'), path.join(ctx, 'c.sh'));
  const renamed = await buildTwice();
  assert.match(renamed.log, /c\.sh 644\n/);
  assert.doesNotMatch(renamed.log, /b\.sh/);

  writeFileSync(path.join(ctx, '.dockerignore'), 'c.sh\n');
  const ignored = await buildTwice();
  assert.doesNotMatch(ignored.log, /c\.sh/, 'a file the changed .dockerignore excludes is gone');

  // The same size and mtime (the stat memo also keeps ctime and the inode: a rewrite is seen, as before).
  const a = path.join(ctx, 'a.txt');
  utimesSync(a, 1_700_000_000, 1_700_000_000);
  await buildTwice();
  const before = statSync(a);
  writeFileSync(a, 'uno\n');
  utimesSync(a, 1_700_000_000, 1_700_000_000);
  assert.deepEqual([statSync(a).size, statSync(a).mtimeMs], [before.size, before.mtimeMs]);
  const rewritten = await buildTwice();
  assert.match(rewritten.log, /#\d+ [\d.]+ uno\n/);

  // The agent lost the manifest the client's no-change build names: it asks for it, and the kept one goes.
  const kept = await build();
  for (const d of syncedDirs()) rmSync(path.join(path.dirname(d), 'manifest.json'), { force: true });
  const lost = await build();
  assert.equal(lost.id, rewritten.id);
  assert.ok(lost.manifestBytes > kept.manifestBytes, `the whole manifest went again: ${lost.manifestBytes} > ${kept.manifestBytes} bytes`);

  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile.replace('cat *.txt', 'cat *.txt && echo dockerfile-2'));
  const df = await build();
  assert.notEqual(df.id, rewritten.id);
  assert.match(df.log, /#\d+ [\d.]+ dockerfile-2\n/);
  await agentLeftNothing();
});

test('remote build: a secret reaches RUN but no layer, no log and no file on the agent; two builds of one context at once both succeed', async () => {
  const value = 's3cret-value-7f3a';
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nARG N\nRUN --mount=type=secret,id=tok test "$(cut -c1-6 /run/secrets/tok)" = s3cret && wc -c < /run/secrets/tok > /len && echo "ok $N" > /ok\n' });
  const [a, b] = await Promise.all([
    remoteOk(['build', '-q', '--secret', 'id=tok,env=TOK', '--build-arg', 'N=1', '-t', 'sec:1', ctx], { TOK: value }),
    remoteOk(['build', '-q', '--secret', 'id=tok,env=TOK', '--build-arg', 'N=2', '-t', 'sec:2', ctx], { TOK: value }),
  ]);
  assert.notEqual(a.stdout, b.stdout);
  const tar = path.join(fx.tmp, 'sec.tar');
  await remoteOk(['save', '-o', tar, 'sec:1']);
  const dir = path.join(fx.tmp, 'sec-x');
  mkdirSync(dir);
  await new Promise<void>((res, rej) => spawn('tar', ['-xf', tar, '-C', dir]).on('close', (c) => (c === 0 ? res() : rej(new Error(`tar ${c}`)))));
  const blobs = path.join(dir, 'blobs', 'sha256');
  let sawOk = false;
  for (const f of existsSync(blobs) ? readdirSync(blobs) : []) {
    let bytes = readFileSync(path.join(blobs, f));
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    assert.ok(!bytes.includes(value), `the secret is in blob ${f}`);
    if (bytes.includes('ok 1')) sawOk = true;
  }
  assert.ok(sawOk, 'the RUN that read the secret wrote its layer');
  assert.ok(!(await agent.log()).includes(value), 'the agent never logs a secret');
  await agentLeftNothing();
});

test('remote build: -o type=local, compression=estargz and --ssh are refused in one line; a missing Dockerfile is one line too', async () => {
  const ctx = fx.context({ Dockerfile: 'FROM busybox\n' });
  const o = await remote(['build', '-o', `type=local,dest=${path.join(fx.tmp, 'o')}`, ctx]);
  assert.equal(o.code, 1);
  assert.match(o.stderr, /^kiln: -o type=local is not available for builds through the kiln agent at tcp:\/\/127\.0\.0\.1:\d+: the image stays on the agent \(build with -t NAME, then kiln --host \S+ save NAME -o FILE\)\n$/);
  const e = await remote(['build', '-o', 'type=image,name=x/y:1,compression=estargz', ctx]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /^kiln: -o compression=estargz is not available for builds through the kiln agent at tcp:\/\/127\.0\.0\.1:\d+ \(build locally \(without --host\) for eStargz layers\)\n$/);
  const sock = path.join(fx.tmp, 'fake-agent.sock');
  const net = await import('node:net');
  const srv = net.createServer().listen(sock);
  try {
    const s = await remote(['build', '--ssh', `default=${sock}`, ctx]);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /^kiln: --ssh is not available for builds through the kiln agent at tcp:\/\/127\.0\.0\.1:\d+: the agent cannot reach this machine's ssh-agent \(build locally \(without --host\) for RUN --mount=type=ssh\)\n$/);
  } finally {
    srv.close();
  }
  // A failure on this side after the Build stream is open (it opens before the scan): one line, the call
  // cancelled, and the agent builds the next one.
  const none = fx.context({ 'a.txt': 'no Dockerfile here\n' });
  const n = await remote(['build', '-q', none]);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /^kiln: Dockerfile \S+\/Dockerfile not found \(pass -f FILE, or put a Dockerfile in the context\)\n$/);
  const ok = await remote(['build', '-q', ctx]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^sha256:[0-9a-f]{64}\n$/);
});

/** Unmounts what is mounted under dir (deepest first). */
async function unmountUnder(dir: string): Promise<void> {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await new Promise<void>((res) => spawn('umount', ['-l', p]).on('close', () => res()));
}

/** Starts `kiln --host … build` of a RUN that sleeps; resolves once the RUN has started. */
const SLEEPING_SECRET = `sleeping-build-secret-${process.pid}`;

async function sleepingBuild(tag: string) {
  // It holds a secret: a killed agent must leave no copy of it on disk.
  const ctx = fx.context({ Dockerfile: `FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && echo started-${tag} && sleep 60\n` });
  const child = spawn(process.execPath, [kilnBin(), '--root', clientRoot, 'build', '--progress=plain', '--secret', 'id=tok,env=TOK', ctx], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, TOK: SLEEPING_SECRET },
  });
  let stderr = '';
  const started = new Promise<void>((resolve) =>
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(`started-${tag}`)) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await started;
  return { child, exited, stderr: () => stderr, ctx };
}

test('remote build: Ctrl-C during a RUN cancels the build on the agent, exit 130, nothing left behind', async () => {
  const b = await sleepingBuild('int');
  const t0 = performance.now();
  b.child.kill('SIGINT');
  assert.equal(await b.exited, 130, b.stderr());
  assert.match(b.stderr(), /kiln: build cancelled by SIGINT/);
  await agentLeftNothing();
  assert.ok(performance.now() - t0 < 30_000, 'the sleeping container was stopped, not waited for');
});

test('remote build: the agent killed mid-build → one line naming the host, non-zero; after a restart the retry succeeds', async () => {
  const b = await sleepingBuild('kill');
  const runc = new Runc({ root: path.join(fx.root, 'build', 'runc') });
  const deadline = Date.now() + 60_000;
  while (!(existsSync(runc.root) && (await runc.list()).some((c) => c.status === 'running')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await agent.kill();
  const code = await b.exited;
  assert.notEqual(code, 0);
  const lines = b.stderr().trim().split('\n');
  const err = lines.findIndex((l) => l.startsWith('kiln: '));
  assert.match(lines[err]!, /^kiln: lost the connection to the kiln agent at tcp:\/\/127\.0\.0\.1:\d+ during the build \(the agent stopped or restarted; run the command again once it is up\)$/, b.stderr());
  // The RUN the killed agent started is an orphan now, its overlay still mounted: the agent's next build clears them.
  assert.equal((await runc.list()).length, 1, 'the killed agent left its RUN container');
  const copies = spawnSync('grep', ['-rl', '--', SLEEPING_SECRET, fx.root], { encoding: 'utf8' });
  assert.deepEqual([copies.status, copies.stdout], [1, ''], 'no file under the agent root holds the secret');
  await agent.restart();
  const check = await remote(['system', 'check']);
  assert.equal(check.code, 1);
  assert.match(check.stdout, /^leftover: runc container kiln-build-[0-9a-f]{12} \(runc root \S+\): RUN container of a build that is gone \(pid \d+\); run kiln system prune to clear$/m);
  const ok = await remoteOk(['build', '-q', fx.context({ Dockerfile: 'FROM busybox\nRUN echo retried\n' })]);
  assert.match(ok.stdout, /^sha256:[0-9a-f]{64}\n$/);
  await fx.assertNoLeftovers(); // (the killed agent's context lock stays: a lock is taken over, not cleared)
});
