import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isKilnError } from '../errors.js';
import { containerStatus, listContainers, prepareContainer, removeContainer } from './container.js';
import { execInContainer } from './exec.js';
import { readLogs, writeLogs, type ReadLogsOptions } from './logs.js';
import { monitorAlive, startMonitor } from './monitor.js';
import { runcRoot } from './paths.js';
import { Runc } from './runc.js';
import { stopContainer } from './stop.js';
import { runtimeFixture, type RuntimeFixture } from '../testing/runtime-fixture.js';

let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture();
});
after(() => fx.cleanup());

const sinks = () => {
  const out = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') => new Writable({ write: (c: Buffer, _e, cb) => ((out[k] += c.toString()), cb()) });
  return { out, stdout: sink('stdout'), stderr: sink('stderr') };
};

async function logs(id: string, opts: ReadLogsOptions = {}) {
  const s = sinks();
  await writeLogs(readLogs(fx.stateDir, id, opts), s);
  return s.out;
}

async function until(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// stdout and stderr are separate pipes: the pause orders their records in the log.
const TRAPS_TERM = 'trap "echo got TERM" TERM; echo warn >&2; usleep 200000; for i in 1 2 3 4 5; do echo line$i; done; while true; do sleep 1 & wait $!; done';

test('a detached container outlives its starter, is listed, logs, takes exec, and is killed after the stop timeout', async (t) => {
  const id = 'detached-1';
  t.after(() => removeContainer(fx.stateDir, id, { force: true }));
  await prepareContainer(fx.stateDir, id, { rootfs: fx.rootfs, image: { Cmd: ['sh', '-c', TRAPS_TERM] }, options: { network: 'none' } });
  // The starter is its own process that exits at once, like `kiln run -d`.
  const monitorUrl = new URL('./monitor.js', import.meta.url).href;
  const script = `const { startMonitor } = await import(${JSON.stringify(monitorUrl)}); const r = await startMonitor(${JSON.stringify(fx.stateDir)}, ${JSON.stringify(id)}); console.log(JSON.stringify(r));`;
  const started = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  assert.match(started.stdout, /"monitorPid":\d+/);

  assert.equal(await monitorAlive(fx.stateDir, id), true);
  const listed = await new Runc({ root: runcRoot(fx.stateDir) }).list();
  assert.deepEqual(listed.map((c) => [c.id, c.status]), [[id, 'running']]);
  assert.equal((await containerStatus(fx.stateDir, id)).status, 'running');

  await until('the log lines', async () => (await logs(id)).stdout.endsWith('line5\n'));
  assert.deepEqual(await logs(id), { stdout: 'line1\nline2\nline3\nline4\nline5\n', stderr: 'warn\n' });
  assert.deepEqual(await logs(id, { tail: 2 }), { stdout: 'line4\nline5\n', stderr: '' });
  assert.deepEqual(await logs(id, { tail: 6 }), { stdout: 'line1\nline2\nline3\nline4\nline5\n', stderr: 'warn\n' });
  assert.deepEqual(await logs(id, { since: new Date(Date.now() + 60_000) }), { stdout: '', stderr: '' });
  assert.deepEqual(await logs(id, { until: '2020-01-01T00:00:00Z' }), { stdout: '', stderr: '' });
  assert.equal((await logs(id, { since: new Date(Date.now() - 60_000) })).stdout.split('\n').length, 6);

  const ex = sinks();
  assert.equal(await execInContainer(fx.stateDir, id, ['sh', '-c', 'echo in $PWD as $(id -u); exit 4'], { user: 'www', workdir: '/tmp', ...ex }), 4);
  assert.equal(ex.out.stdout, 'in /tmp as 1000\n');
  await assert.rejects(execInContainer(fx.stateDir, id, ['nope']), (e) => isKilnError(e) && e.exitCode === 127 && e.message === 'exec: "nope": executable file not found in $PATH');

  // Following ends by itself once the container has exited.
  const followed = logs(id, { follow: true, tail: 1 });
  const t0 = Date.now();
  const exit = await stopContainer(fx.stateDir, id, { timeoutMs: 400 });
  const took = Date.now() - t0;
  assert.equal(exit.exitCode, 137);
  assert.ok(took >= 400 && took < 5000, `stop took ${took} ms`);
  const f = await followed;
  assert.equal(f.stdout, 'line5\ngot TERM\n');
  assert.equal(f.stderr, '');

  await until('the monitor to end', async () => !(await monitorAlive(fx.stateDir, id)));
  assert.deepEqual(await new Runc({ root: runcRoot(fx.stateDir) }).list(), []);
  assert.deepEqual((await listContainers(fx.stateDir)).map((c) => [c.id, c.status, c.exit?.exitCode]), [[id, 'exited', 137]]);
  await removeContainer(fx.stateDir, id);
  assert.ok(!existsSync(`${fx.stateDir}/containers/${id}`));
});

test('a container that exits on SIGTERM stops at once with its own code', async (t) => {
  const id = 'graceful-1';
  t.after(() => removeContainer(fx.stateDir, id, { force: true }));
  const cmd = 'trap "echo bye; exit 0" TERM; echo ready; while true; do sleep 1 & wait $!; done';
  await prepareContainer(fx.stateDir, id, { rootfs: fx.rootfs, image: { Cmd: ['sh', '-c', cmd] }, options: { network: 'none' } });
  await startMonitor(fx.stateDir, id);
  await until('ready', async () => (await logs(id)).stdout === 'ready\n');
  const t0 = Date.now();
  const exit = await stopContainer(fx.stateDir, id, { timeoutMs: 10_000 });
  assert.equal(exit.exitCode, 0);
  // at once, not after the 10 s of the stop timeout (a loaded machine takes seconds to deliver the signal and reap)
  assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  assert.equal((await logs(id)).stdout, 'ready\nbye\n');
  await removeContainer(fx.stateDir, id);
});

test('detached start failures reject with 127; a running container needs --force to be removed', async (t) => {
  t.after(() => Promise.all(['bad-1', 'busy-1'].map((id) => removeContainer(fx.stateDir, id, { force: true }))));
  await prepareContainer(fx.stateDir, 'bad-1', { rootfs: fx.rootfs, image: { Cmd: ['missing-cmd'] }, options: { network: 'none' } });
  await assert.rejects(startMonitor(fx.stateDir, 'bad-1'), (e) => isKilnError(e) && e.exitCode === 127 && /"missing-cmd": executable file not found/.test(e.message));
  await removeContainer(fx.stateDir, 'bad-1');

  await prepareContainer(fx.stateDir, 'busy-1', { rootfs: fx.rootfs, image: { Cmd: ['sleep', '1000'] }, options: { network: 'none' } });
  await startMonitor(fx.stateDir, 'busy-1');
  await assert.rejects(removeContainer(fx.stateDir, 'busy-1'), /container busy-1 is running: cannot remove it/);
  await assert.rejects(prepareContainer(fx.stateDir, 'busy-1', { rootfs: fx.rootfs, image: { Cmd: ['true'] }, options: { network: 'none' } }), (e) => isKilnError(e, 'ALREADY_EXISTS'));
  await removeContainer(fx.stateDir, 'busy-1', { force: true });
  assert.deepEqual(await listContainers(fx.stateDir), []);
});
