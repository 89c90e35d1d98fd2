/**
 * kiln's containers on a real containerd (the harness's, runc v2 shim):
 * the built CLI with `--backend containerd`, checked with `ctr` — containers
 * and tasks listed in the engine's namespace, and nothing left after `rm`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { bridgeMembers, until } from '../../testing/container-fixture.js';
import { kiln, kilnBin, kilnOk } from '../../testing/kiln.js';
import { busyboxTar } from '../../testing/runtime-fixture.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';

const NS = 'kiln-test';
const IMAGE = 'busybox:test';
let ctd: TestContainerd;
let root: string;
const bridge = `kc${randomBytes(4).toString('hex')}`;
const subnet = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.0/24`;
const flags = () => ['--backend', 'containerd', '--address', ctd.address, '--namespace', NS];
const k = (args: string[]) => kiln([...flags(), ...args], { root });
const ok = (args: string[]) => kilnOk([...flags(), ...args], { root });
const ctr = (args: string[]) => ctd.ctr(args, { namespace: NS });
const ids = (out: string) => out.split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0]!);

before(async () => {
  [ctd, root] = await Promise.all([startContainerd(), tempDir('kiln-ctd-run-')]);
  writeFileSync(path.join(root, 'network.json'), JSON.stringify({ bridge, subnet }));
  await kilnOk([...flags(), 'import', busyboxTar(), IMAGE], { root });
});
after(async () => {
  await ctd?.stop();
  try {
    execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  } catch {
    // no bridge was made
  }
  await removeDir(root);
});

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

test('a name already taken, a running container removed only with -f, unsupported flags: one line each', async () => {
  await ok(['run', '-d', '--name', 'busy', '--network', 'none', IMAGE, 'sleep', '1000']);
  const taken = await k(['run', '-d', '--name', 'busy', '--network', 'none', IMAGE, 'true']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /^kiln: the container name "busy" is already in use/);
  const running = await k(['rm', 'busy']);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /^kiln: cannot remove container busy: it is running \(stop it first or use kiln rm -f busy\)\n$/);
  await ok(['rm', '-f', 'busy']);
  for (const extra of [['-v', '/tmp:/x'], ['-t'], ['-i']]) {
    const r = await k(['run', ...extra, '--network', 'none', IMAGE, 'true']);
    assert.equal(r.code, 1, extra.join(' '));
    assert.match(r.stderr, /^kiln: .* not supported on the containerd backend yet/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.equal((await ok(['ps', '-aq'])).stdout, '');
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const HTTPD = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www';

test('bridge (the default) through the local engine\'s CNI code: a published port reaches busybox httpd, containers reach each other; rm releases the veth and the port', async () => {
  const port = await freePort();
  const id = (await ok(['run', '-d', '--name', 'web', '--hostname', 'webhost', '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', HTTPD])).stdout.trim();
  let body = '';
  await until('httpd answers on the published port', async () => {
    try {
      body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      return true;
    } catch {
      return false;
    }
  });
  assert.equal(body, 'hello from webhost\n');
  assert.match((await ok(['ps'])).stdout, new RegExp(`127\\.0\\.0\\.1:${port}->80/tcp\\s+web`));
  const ip = (JSON.parse((await ok(['inspect', 'web'])).stdout) as { NetworkSettings: { IPAddress: string } }[])[0]!.NetworkSettings.IPAddress;
  assert.ok(ip.startsWith(subnet.split('.').slice(0, 3).join('.') + '.'), `${ip} not in ${subnet}`);
  const peer = await ok(['run', '--rm', IMAGE, 'sh', '-c', `wget -qO- http://${ip}/; grep -c webhost /etc/hosts || true`]);
  assert.equal(peer.stdout, 'hello from webhost\n0\n');
  assert.equal((await ok(['exec', 'web', 'grep', '-c', `^${ip.replace(/\./g, '\\.')}\twebhost$`, '/etc/hosts'])).stdout, '1\n');

  await ok(['rm', '-f', 'web']);
  assert.deepEqual(bridgeMembers(bridge), []);
  assert.deepEqual(await held(id), []);
  assert.equal(execFileSync('ip', ['netns', 'list']).toString().includes(`kiln-${id.slice(0, 16)}`), false, 'network namespace left');
  await assert.rejects(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }));
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
