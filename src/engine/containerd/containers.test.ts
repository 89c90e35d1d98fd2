/**
 * kiln's containers on a real containerd (the harness's, runc v2 shim):
 * the built CLI with `--backend containerd`, checked with `ctr` — containers
 * and tasks listed in the engine's namespace, and nothing left after `rm`;
 * `-d --rm`, events. The docker-level behaviour shared with the local
 * backend is the conformance suite (containers-conformance.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { IMAGE, until } from '../../testing/container-fixture.js';
import { containerdContainerFixture, CTR_NAMESPACE as NS, ctrIds as ids, type ContainerdContainerFixture } from '../../testing/containerd-container-fixture.js';
import { kilnBin } from '../../testing/kiln.js';

let fx: ContainerdContainerFixture;
let root: string;
before(async () => {
  fx = await containerdContainerFixture();
  root = fx.root;
});
after(() => fx?.cleanup());
const k = (args: string[]) => fx.k(args);
const ok = (args: string[]) => fx.ok(args);
const ctr = (args: string[]) => fx.ctr(args);
const flags = () => ['--backend', 'containerd', '--address', fx.ctd.address, '--namespace', NS];

/** What containerd holds of a container: its record, its task, its writable root. */
async function held(id: string): Promise<string[]> {
  const out: string[] = [];
  if (ids(await ctr(['containers', 'ls'])).includes(id)) out.push('container');
  if (ids(await ctr(['tasks', 'ls'])).includes(id)) out.push('task');
  if (ids(await ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls'])).includes(id)) out.push('snapshot');
  return out;
}

test('run: output split into stdout and stderr, the exit code, docker\'s 127; --rm leaves nothing in containerd', async () => {
  const r = await k(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
  const flagsSeen = await ok(['run', '--rm', '--network', 'none', '-e', 'A=b', '-w', '/tmp', '-u', '1000:1000', '--hostname', 'box', IMAGE, 'sh', '-c', 'echo $A $(pwd) $(id -u) $(hostname)']);
  assert.equal(flagsSeen.stdout, 'b /tmp 1000 box\n');
  const missing = await k(['run', '--rm', '--network', 'none', IMAGE, 'nosuchcmd']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /^kiln: exec: "nosuchcmd": executable file not found in \$PATH/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.equal((await ok(['ps', '-aq'])).stdout, '', '--rm left containers');
  // -d --rm: removed when it exits, with no kiln command running then.
  const detached = (await ok(['run', '-d', '--rm', '--network', 'none', IMAGE, 'sh', '-c', 'sleep 1; echo bye'])).stdout.trim();
  assert.deepEqual(await held(detached), ['container', 'task', 'snapshot']);
  await until('-d --rm container removed', async () => (await held(detached)).length === 0);
  assert.deepEqual(ids(await ctr(['containers', 'ls'])), []);
  assert.deepEqual(ids(await ctr(['tasks', 'ls'])), []);
});

test('detached: ctr sees it, logs after the CLI exited, exec, stop, wait, a fresh root on start, rm leaves nothing', async () => {
  const script = 'echo boot; touch /marker-$(date +%s%N); ls / | grep -c marker; trap "" TERM; while true; do usleep 100000; done';
  const id = (await ok(['run', '-d', '--name', 'life', '--network', 'none', IMAGE, 'sh', '-c', script])).stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  await until('first log lines', async () => (await ok(['logs', 'life'])).stdout === 'boot\n1\n');
  assert.deepEqual(await held(id), ['container', 'task', 'snapshot']);
  assert.match(await ctr(['tasks', 'ls']), new RegExp(`^${id}\\s+\\d+\\s+RUNNING$`, 'm'));
  assert.match(await ctr(['containers', 'ls']), new RegExp(`^${id}\\s+docker.io/library/busybox:test\\s+io.containerd.runc.v2`, 'm'));

  const ps = await ok(['ps']);
  assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)}\\s+busybox:test\\s+"sh -c echo boot;.*Up .*life$`, 'm'));

  const ex = await k(['exec', '-e', 'X=1', '-w', '/etc', 'life', 'sh', '-c', 'echo $X $(pwd); echo to-err >&2; exit 5']);
  assert.deepEqual([ex.code, ex.stdout, ex.stderr], [5, '1 /etc\n', 'to-err\n']);
  assert.equal((await ok(['exec', '-u', 'nobody', 'life', 'id', '-un'])).stdout, 'nobody\n');
  const nocmd = await k(['exec', 'life', 'nosuchcmd']);
  assert.equal(nocmd.code, 127);

  // The process ignores SIGTERM: stop kills it after -t.
  const t0 = Date.now();
  await ok(['stop', '-t', '1', 'life']);
  const took = Date.now() - t0;
  assert.ok(took >= 1000 && took < 15000, `stop took ${took} ms`);
  assert.match((await ok(['ps', '-a', '--filter', 'name=life'])).stdout, /Exited \(137\)/);
  assert.equal((await ok(['wait', 'life'])).stdout, '137\n');
  assert.deepEqual(await held(id), ['container', 'snapshot'], 'a stopped container keeps no task');

  // A new start is a fresh root: the earlier marker is gone (count stays 1); the log keeps both runs.
  await ok(['start', 'life']);
  await until('second run logs', async () => (await ok(['logs', 'life'])).stdout === 'boot\n1\nboot\n1\n');
  assert.match((await ok(['logs', '--tail', '1', '-t', 'life'])).stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z 1\n$/);
  await ok(['kill', 'life']);
  assert.equal((await ok(['wait', 'life'])).stdout, '137\n');
  const dir = path.join(root, 'containerd', NS, id);
  assert.ok(existsSync(dir));
  await ok(['rm', 'life']);
  assert.deepEqual(await held(id), []);
  assert.equal(existsSync(dir), false, 'the container directory is gone');
  assert.equal((await k(['inspect', 'life'])).code, 1);
});

test('a name already taken, a running container removed only with -f: one line each', async () => {
  await ok(['run', '-d', '--name', 'busy', '--network', 'none', IMAGE, 'sleep', '1000']);
  const taken = await k(['run', '-d', '--name', 'busy', '--network', 'none', IMAGE, 'true']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /^kiln: the container name "busy" is already in use/);
  const running = await k(['rm', 'busy']);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /^kiln: cannot remove container busy: it is running \(stop it first or use kiln rm -f busy\)\n$/);
  await ok(['rm', '-f', 'busy']);
  assert.equal((await ok(['ps', '-aq'])).stdout, '');
});

test('kiln events: create, start, die with the exit code, destroy of kiln\'s containers, from containerd\'s task and container events', async () => {
  const child = spawn(process.execPath, [kilnBin(), '--root', root, ...flags(), 'events', '--filter', 'type=container'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  try {
    // containerd keeps no history: run probes until the subscription is live.
    await until('the subscription prints a probe', async () => {
      await ok(['run', '--rm', '--network', 'none', IMAGE, 'true']);
      return / container destroy /.test(out);
    });
    // ctr's own containers are not kiln's: not shown.
    await ctr(['run', '--rm', 'docker.io/library/busybox:test', `ctr-${randomBytes(3).toString('hex')}`, 'true']);
    const id = (await ok(['create', '--name', 'evt', '--network', 'none', IMAGE, 'sh', '-c', 'exit 4'])).stdout.trim();
    assert.equal((await k(['start', '-a', 'evt'])).code, 4);
    await ok(['rm', 'evt']);
    const mine = () => out.split('\n').filter((l) => l.includes(id)).map((l) => l.split(' ')[2]);
    await until('destroy printed', () => mine().includes('destroy'));
    assert.deepEqual(mine(), ['create', 'start', 'die', 'destroy'], out);
    assert.match(out, new RegExp(`^\\S+ container die ${id} \\(name=evt, .*exitCode=4\\)$`, 'm'));
    assert.ok(out.split('\n').filter(Boolean).every((l) => /name=(evt|[a-z]+_[a-z]+)/.test(l)), `a container that is not kiln's was shown:\n${out}`);
  } finally {
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, err);
});

test('containerd restarted while a container runs: ps, logs and exec work once it is back; stop and rm leave nothing', async () => {
  const id = (await ok(['run', '-d', '--name', 'survivor', '--network', 'none', IMAGE, 'sh', '-c', 'echo before; while true; do usleep 100000; done'])).stdout.trim();
  await until('first log line', async () => (await ok(['logs', 'survivor'])).stdout === 'before\n');
  await fx.ctd.restart();
  assert.match((await ok(['ps'])).stdout, /Up .*survivor$/m);
  assert.equal((await ok(['exec', 'survivor', 'sh', '-c', 'echo after > /proc/1/fd/1; echo done'])).stdout, 'done\n');
  await until('the log driver still writes', async () => (await ok(['logs', 'survivor'])).stdout === 'before\nafter\n');
  await ok(['stop', '-t', '0', 'survivor']);
  assert.equal((await ok(['wait', 'survivor'])).stdout, '137\n');
  await ok(['rm', 'survivor']);
  assert.deepEqual(await held(id), []);
});

test('run -d -t: the pty the shim holds, its output in the log driver\'s log (docker\'s \\r\\n)', async () => {
  await ok(['run', '-d', '-t', '--name', 'ttylog', '--network', 'none', IMAGE, 'sh', '-c', 'tty; echo done']);
  await until('the detached terminal\'s log', async () => (await ok(['logs', 'ttylog'])).stdout === '/dev/pts/0\r\ndone\r\n');
  await ok(['rm', '-f', 'ttylog']);
});
