/**
 * A build killed with SIGKILL mid-RUN leaves its runc container running and
 * its overlay mounted (and its scratch dir): `kiln system check` names them,
 * and the next build on the root clears them. A live build's container and mount are never touched
 * by another build starting beside it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { kiln, kilnBin } from '../testing/kiln.js';
import { Runc } from '../runtime/runc.js';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let runc: Runc;

before(async () => {
  fx = await buildFixture('kiln-killed-build-');
  runc = new Runc({ root: path.join(fx.root, 'build', 'runc') });
});

after(async () => {
  await kiln(['system', 'prune'], { root: fx.root });
  await fx.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));

/** Starts `kiln build` of ctx as a child; resolves once its RUN's process runs (its container id and pid). */
async function buildUntilRun(ctx: string, flags: string[] = []) {
  const child = spawn(process.execPath, [kilnBin(), '--root', fx.root, 'build', '--progress=plain', ...flags, ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 120_000;
  for (;;) {
    const running = existsSync(runc.root) ? (await runc.list()).filter((c) => c.status === 'running') : [];
    if (running.length === 1) return { child, exited, output: () => output, id: running[0]!.id, pid: running[0]!.pid };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the RUN never started:\n${output}`);
    await sleep(100);
  }
}

test('kill -9 of a build mid-RUN: system check names its container and mount; the next build clears them', async () => {
  const b = await buildUntilRun(fx.context({ Dockerfile: 'FROM busybox\nRUN sleep 30\n' }));
  b.child.kill('SIGKILL');
  assert.equal((await b.exited).signal, 'SIGKILL');
  assert.ok(existsSync(`/proc/${b.pid}`), 'the RUN outlives the killed build (what is to be cleared)');

  const check = await kiln(['system', 'check'], { root: fx.root });
  assert.equal(check.code, 1, check.stdout + check.stderr);
  const rootfs = path.join(fx.root, 'mounts', b.id, 'rootfs');
  const lines = check.stdout.split('\n').filter(Boolean).sort();
  assert.equal(lines.length, 3, check.stdout);
  assert.equal(lines[0], `leftover: mount ${rootfs}: build root of a build that is gone (pid ${b.child.pid}); run kiln system prune to clear`);
  assert.equal(lines[1], `leftover: runc container ${b.id} (runc root ${runc.root}): RUN container of a build that is gone (pid ${b.child.pid}); run kiln system prune to clear`);
  const scratch = `${path.join(fx.root, 'build', 'scratch')}/[0-9a-f]{12}`.replace(/[.+]/g, '\\$&');
  assert.match(lines[2]!, new RegExp(`^leftover: scratch dir ${scratch}: scratch files of a build that is gone \\(pid ${b.child.pid}\\); run kiln system prune to clear$`));
  assert.equal(mountsUnder(rootfs).length, 1, 'the killed build left its overlay mounted');

  await fx.buildOk(['-t', 'after-kill:1', fx.context({ Dockerfile: 'FROM busybox\nRUN echo ok > /ok\n' })]);
  await fx.assertNoLeftovers();
  assert.deepEqual(mountsUnder(fx.root), [], 'no mount under the root');
  const deadline = Date.now() + 10_000;
  while (existsSync(`/proc/${b.pid}`) && Date.now() < deadline) await sleep(100);
  assert.ok(!existsSync(`/proc/${b.pid}`), `the killed build's RUN (pid ${b.pid}) is gone`);
  const clean = await kiln(['system', 'check'], { root: fx.root });
  assert.deepEqual([clean.code, clean.stdout], [0, 'store is consistent\n']);
});

test('a build starting beside a live one leaves its RUN container and mount alone', async () => {
  // The first build's RUN waits for /go, which the test writes into its root through the host.
  const a = await buildUntilRun(fx.context({ Dockerfile: 'FROM busybox\nRUN while [ ! -e /go ]; do sleep 0.1; done; rm /go; echo a > /a\n' }));
  const rootfs = path.join(fx.root, 'mounts', a.id, 'rootfs');
  const check = await kiln(['system', 'check'], { root: fx.root });
  assert.deepEqual([check.code, check.stdout], [0, 'store is consistent\n'], 'a live build is no leftover');
  await fx.buildOk(['-t', 'beside:1', fx.context({ Dockerfile: 'FROM busybox\nRUN echo b > /b\n' })]);
  assert.equal((await runc.state(a.id)).status, 'running', 'the live build\'s RUN still runs');
  assert.equal(mountsUnder(rootfs).length, 1, 'the live build\'s overlay is still mounted');
  writeFileSync(path.join(rootfs, 'go'), '');
  const done = await a.exited;
  assert.equal(done.code, 0, a.output());
  await fx.assertNoLeftovers();
});

test('kill -9 of a build whose RUN holds a secret: the secret\'s copy is on no disk, only in the running step', async () => {
  const value = `kill-me-secret-${process.pid}`;
  const src = path.join(fx.tmp, 'killed-secret.txt');
  writeFileSync(src, value);
  const ctx = fx.context({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=tok,required=true sh -c "cat /run/secrets/tok > /dev/null; echo read-the-secret; sleep 30"\n' });
  const b = await buildUntilRun(ctx, ['--secret', `id=tok,src=${src}`]);
  // The RUN's output reached the build's client: its secret's copy was unlinked before that (not after a poll).
  const deadline = Date.now() + 60_000;
  while (!b.output().includes('read-the-secret') && Date.now() < deadline) await sleep(20);
  assert.match(b.output(), /read-the-secret/);
  b.child.kill('SIGKILL');
  await b.exited;
  const hits = spawnSync('grep', ['-rl', '--', value, path.join(fx.root, 'build')], { encoding: 'utf8' });
  assert.equal(hits.stdout, '', `the secret is in ${hits.stdout}`);
  assert.equal(hits.status, 1, 'grep found nothing');
  await fx.buildOk(['-t', 'after-secret-kill:1', fx.context({ Dockerfile: 'FROM busybox\nRUN echo ok > /ok\n' })]);
  await fx.assertNoLeftovers();
  const clean = await kiln(['system', 'check'], { root: fx.root });
  assert.deepEqual([clean.code, clean.stdout], [0, 'store is consistent\n']);
});
