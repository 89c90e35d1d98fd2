import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { PassThrough, Readable, Writable } from 'node:stream';
import { isKilnError } from '../errors.js';
import { prepareContainer, removeContainer } from './container.js';
import { readLogs, writeLogs } from './logs.js';
import { runForeground, type MonitorOptions } from './monitor.js';
import type { RunOptions } from './options.js';
import { runtimeFixture, type RuntimeFixture } from '../testing/runtime-fixture.js';

let fx: RuntimeFixture;
before(async () => {
  fx = await runtimeFixture();
});
after(() => fx.cleanup());

let n = 0;
/** Runs a busybox container in the foreground; returns what a user would see. */
async function run(cmd: string[], options: Partial<RunOptions> = {}, stdin?: Readable, monitor: Pick<MonitorOptions, 'onSpawn'> = {}) {
  const id = `run-${process.pid}-${++n}`;
  await prepareContainer(fx.stateDir, id, { rootfs: fx.rootfs, image: { Cmd: ['sh'], Env: ['IMG=1'] }, options: { network: 'none', cmd, ...options } });
  const out = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') => new Writable({ write: (c: Buffer, _e, cb) => ((out[k] += c.toString()), cb()) });
  try {
    const code = await runForeground(fx.stateDir, id, { stdout: sink('stdout'), stderr: sink('stderr'), ...(stdin ? { stdin } : {}), ...monitor });
    return { id, code, ...out };
  } finally {
    const logged = { stdout: '', stderr: '' };
    const lsink = (k: 'stdout' | 'stderr') => new Writable({ write: (c: Buffer, _e, cb) => ((logged[k] += c.toString()), cb()) });
    await writeLogs(readLogs(fx.stateDir, id), { stdout: lsink('stdout'), stderr: lsink('stderr') });
    lastLogged = logged;
    await removeContainer(fx.stateDir, id);
    assert.ok(!existsSync(`${fx.stateDir}/containers/${id}`));
  }
}
let lastLogged = { stdout: '', stderr: '' };

test('echo hello: output, exit 0, and the same output in the log', async () => {
  const r = await run(['echo', 'hello']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'hello\n', '']);
  assert.deepEqual(lastLogged, { stdout: 'hello\n', stderr: '' });
});

test('exit codes: exit 3, and kill -9 of the shell under --init is 137', async () => {
  assert.equal((await run(['sh', '-c', 'echo err >&2; exit 3'])).code, 3);
  assert.equal(lastLogged.stderr, 'err\n');
  const killed = await run(['sh', '-c', 'kill -9 $$'], { init: '/usr/bin/tini-static' });
  assert.equal(killed.code, 137);
});

test('a command not found fails with 127 and Docker\'s message; a non-executable with 126', async () => {
  await assert.rejects(run(['foo']), (e) => {
    assert.ok(isKilnError(e));
    assert.equal(e.message, 'exec: "foo": executable file not found in $PATH');
    assert.equal(e.exitCode, 127);
    return true;
  });
  assert.deepEqual(lastLogged, { stdout: '', stderr: '' }, "runc's own message stays out of the container's log");
  const mimic = await run(['sh', '-c', 'echo "runc run failed: my own words" >&2']);
  assert.deepEqual([mimic.code, mimic.stderr, lastLogged.stderr], [0, 'runc run failed: my own words\n', 'runc run failed: my own words\n']);
  await assert.rejects(run(['/etc/passwd']), (e) => isKilnError(e) && e.exitCode === 126 && /permission denied/.test(e.message));
});

test('user, groups, workdir and environment are applied', async () => {
  const r = await run(['sh', '-c', 'id -u; id -g; pwd; echo "$HOME $IMG $A $HOSTNAME"; hostname; cat /etc/hostname'], {
    user: 'www',
    groupAdd: ['nogroup'],
    workdir: '/tmp',
    env: ['A=2'],
    hostname: 'box1',
  });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '1000\n1000\n/tmp\n/var/www 1 2 box1\nbox1\nbox1\n');
  const groups = await run(['id', '-G'], { user: 'www', groupAdd: ['nogroup'] });
  assert.equal(groups.stdout, '1000 65534\n');
  const numeric = await run(['sh', '-c', 'id -u; id -g; echo $HOME'], { user: '4242:4343' });
  assert.equal(numeric.stdout, '4242\n4343\n/\n');
});

test('read-only rootfs refuses writes; /tmp of a writable one accepts them', async () => {
  const ro = await run(['sh', '-c', 'touch /made-here'], { readOnly: true });
  assert.equal(ro.code, 1);
  assert.match(ro.stderr, /Read-only file system/);
  assert.ok(!existsSync(`${fx.rootfs}/made-here`));
  const rw = await run(['sh', '-c', 'echo x > /tmp/made-here && cat /tmp/made-here']);
  assert.deepEqual([rw.code, rw.stdout], [0, 'x\n']);
});

test('network none has only lo; /etc/resolv.conf comes from the host without loopback servers', async () => {
  const r = await run(['sh', '-c', 'ls /sys/class/net; cat /etc/resolv.conf']);
  const [first, ...rest] = r.stdout.split('\n');
  assert.equal(first, 'lo');
  const host = await readFile('/etc/resolv.conf', 'utf8');
  const expected = host.split('\n').filter((l) => /^\s*nameserver\s/.test(l) && !/\s(127\.|::1)/.test(l));
  for (const l of expected) assert.ok(rest.includes(l), `missing ${l}`);
  assert.ok(!rest.some((l) => /nameserver 127\./.test(l)));
});

test('capabilities: the default set, and --cap-drop ALL', async () => {
  const def = await run(['sh', '-c', 'grep CapEff /proc/self/status']);
  assert.equal(def.stdout, 'CapEff:\t00000000a80425fb\n');
  const none = await run(['sh', '-c', 'grep CapEff /proc/self/status'], { capDrop: ['ALL'] });
  assert.equal(none.stdout, 'CapEff:\t0000000000000000\n');
  const masked = await run(['sh', '-c', 'cat /proc/kcore | wc -c; echo 1 > /proc/sys/kernel/panic']);
  assert.match(masked.stdout, /^0\n/);
  assert.match(masked.stderr, /Read-only file system/);
});

test('resources: memory, cpus and pids limits reach the cgroup', async () => {
  const r = await run(['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us'], {
    memory: 64 * 1024 * 1024,
    pidsLimit: 50,
    cpus: 0.5,
  });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, '67108864\n50\n50000\n');
});

test('tty: the process gets a terminal; its output comes on stdout with \\r\\n; start failures still give 127', async () => {
  const r = await run(['sh', '-c', 'tty; echo $TERM; echo err >&2; exit 5'], { tty: true });
  assert.deepEqual([r.code, r.stdout, r.stderr], [5, '/dev/pts/0\r\nxterm\r\nerr\r\n', '']);
  assert.deepEqual(lastLogged, { stdout: '/dev/pts/0\r\nxterm\r\nerr\r\n', stderr: '' });
  await assert.rejects(run(['nope'], { tty: true }), (e) => isKilnError(e) && e.exitCode === 127);
  assert.deepEqual(lastLogged, { stdout: '', stderr: '' });
});

test('-i: stdin reaches the process', async () => {
  const r = await run(['sh', '-c', 'tr a-z A-Z; echo done'], {}, Readable.from([Buffer.from('hello\nworld\n')]));
  assert.deepEqual([r.code, r.stdout], [0, 'HELLO\nWORLD\ndone\n']);
});

test('onSpawn is called while the container runs (the builder hashes the next COPY meanwhile), not at its end', async () => {
  // The process waits for a line that only onSpawn sends; had onSpawn come at the end, it would read the late one.
  const stdin = new PassThrough();
  const late = setTimeout(() => stdin.end('late\n'), 10_000);
  let calls = 0;
  const r = await run(['sh', '-c', 'read x; echo "got $x"'], {}, stdin, { onSpawn: () => (calls++, stdin.end('early\n')) }).finally(() => clearTimeout(late));
  assert.deepEqual([r.code, r.stdout, calls], [0, 'got early\n', 1]);
});

test('host network: the interfaces and hostname of the host, and its /etc/hosts', async () => {
  const r = await run(['sh', '-c', 'ls /sys/class/net | wc -l; hostname; head -1 /etc/hosts'], { network: 'host' });
  const [count, name, firstHost] = r.stdout.split('\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(Number(count), readdirSync('/sys/class/net').length);
  assert.equal(name, hostname());
  assert.equal(firstHost, (await readFile('/etc/hosts', 'utf8')).split('\n')[0]);
});
