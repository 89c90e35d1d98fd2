import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { bridgeMembers, containerFixture, IMAGE, until, type ContainerFixture } from '../../../testing/container-fixture.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
});
after(() => fx.cleanup());

const oneLine = (stderr: string) => {
  assert.equal(stderr.trim().split('\n').length, 1, `not one line: ${stderr}`);
  return stderr.trim();
};

const monitorPid = (id: string) => Number(readFileSync(path.join(fx.root, 'run', 'containers', id, 'monitor.pid'), 'utf8'));
const initPid = (id: string) => (JSON.parse(readFileSync(path.join(fx.root, 'run', 'runc', id, 'state.json'), 'utf8')) as { init_process_pid: number }).init_process_pid;
const mountsOf = (id: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
const netnsOf = (id: string) => execFileSync('ip', ['netns', 'list']).toString().split('\n').filter((l) => l.startsWith(`kiln-${id.slice(0, 16)}`));

test('the monitor dies: ps tells the truth (running, then exited with an unknown code) and rm -f leaves nothing', async () => {
  const id = (await fx.ok(['run', '-d', '--name', 'orphan', IMAGE, 'sleep', '1000'])).stdout.trim();
  assert.equal(bridgeMembers(fx.bridge).length, 1);
  assert.equal(netnsOf(id).length, 1);
  process.kill(monitorPid(id), 'SIGKILL');
  await until('monitor gone', () => {
    try {
      const stat = readFileSync(`/proc/${monitorPid(id)}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  });
  // The container itself still runs.
  assert.match((await fx.ok(['ps', '--filter', 'name=orphan'])).stdout, /Up .*orphan/);
  process.kill(initPid(id), 'SIGKILL');
  await until('ps shows the exit', async () => /Exited \(unknown\)/.test((await fx.ok(['ps', '-a', '--filter', 'name=orphan'])).stdout));
  const json = JSON.parse((await fx.ok(['inspect', 'orphan'])).stdout) as { State: { Status: string; Error: string } }[];
  assert.equal(json[0]!.State.Status, 'exited');
  assert.match(json[0]!.State.Error, /monitor died/);

  await fx.ok(['rm', '-f', 'orphan']);
  assert.deepEqual(mountsOf(id), []);
  assert.deepEqual(netnsOf(id), []);
  assert.deepEqual(bridgeMembers(fx.bridge), []);
  assert.equal(execFileSync('iptables-save', ['-t', 'nat']).toString().includes(id), false, 'iptables rules left');
});

test('rm -f of a running container whose monitor died kills it and cleans mounts, runc state and network', async () => {
  const id = (await fx.ok(['run', '-d', '--name', 'orphan2', '-p', '127.0.0.1:0:80', IMAGE, 'sleep', '1000']).catch(() => undefined))?.stdout.trim();
  // Port 0 is not a valid publication: that is refused with one line.
  assert.equal(id, undefined);
  const id2 = (await fx.ok(['run', '-d', '--name', 'orphan2', IMAGE, 'sleep', '1000'])).stdout.trim();
  const pid = initPid(id2);
  process.kill(monitorPid(id2), 'SIGKILL');
  const rm = await fx.k(['rm', 'orphan2']);
  assert.equal(rm.code, 1);
  assert.match(oneLine(rm.stderr), /^kiln: cannot remove container orphan2: it is running \(stop it first or use kiln rm -f orphan2\)$/);
  await fx.ok(['rm', '-f', 'orphan2']);
  await until('container process gone', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(mountsOf(id2), []);
  assert.deepEqual(netnsOf(id2), []);
  assert.equal(execFileSync('runc', ['--root', path.join(fx.root, 'run', 'runc'), 'list', '-q']).toString().trim(), '');
});

test('bad input: name in use, unknown image, port in use, bad flags — one clear line each', async () => {
  await fx.ok(['create', '--name', 'taken', '--network', 'none', IMAGE, 'true']);
  const dup = await fx.k(['run', '--name', 'taken', '--network', 'none', IMAGE, 'true']);
  assert.equal(dup.code, 1);
  assert.match(oneLine(dup.stderr), /^kiln: the container name "\/taken" is already in use by container [0-9a-f]{12} /);
  await fx.ok(['rm', 'taken']);

  const unknown = await fx.k(['run', '--rm', '127.0.0.1:1/nothing/here:v1', 'true']);
  assert.equal(unknown.code, 1);
  // docker's two lines: what it did not find, then why the pull failed
  const [told, failed, ...more] = unknown.stderr.trim().split('\n');
  assert.equal(told, "Unable to find image '127.0.0.1:1/nothing/here:v1' locally");
  assert.match(failed ?? '', /^kiln: unable to find image '127\.0\.0\.1:1\/nothing\/here:v1' locally, and pulling it failed: /);
  assert.deepEqual(more, []);
  const never = await fx.k(['run', '--rm', '--pull', 'never', '127.0.0.1:1/nothing/here:v1', 'true']);
  assert.equal(never.code, 1);
  assert.match(oneLine(never.stderr), /^kiln: no such image: 127\.0\.0\.1:1\/nothing\/here:v1/);
  const notTty = await fx.k(['run', '--rm', '-it', IMAGE, 'true']);
  assert.equal(notTty.code, 1);
  assert.match(oneLine(notTty.stderr), /^kiln: the input device is not a TTY/);

  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const busy = await fx.k(['run', '--rm', '-p', `127.0.0.1:${port}:80`, IMAGE, 'true']);
    assert.equal(busy.code, 1);
    assert.match(oneLine(busy.stderr), new RegExp(`^kiln: cannot publish 127\\.0\\.0\\.1:${port}/tcp: the port is already in use on this machine`));
  } finally {
    server.close();
  }
  assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');

  for (const [args, message] of [
    [['run', '--network', 'nope', IMAGE], /network "nope" not found/],
    [['run', '-w', 'rel', IMAGE], /working directory 'rel' is invalid/],
    [['run', '--memory', 'lots', IMAGE], /invalid --memory "lots"/],
    [['ps', '--filter', 'status=sleeping'], /invalid filter "status=sleeping"/],
    [['logs', 'no-such-container'], /no such container: no-such-container/],
  ] as const) {
    const r = await fx.k([...args]);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(oneLine(r.stderr), message);
  }
});

test('exec of a container not running; several names, as docker: each one done in turn, a failure one line and the others still done, exit 1', async () => {
  await fx.ok(['create', '--name', 'one', '--network', 'none', IMAGE, 'true']);
  await fx.ok(['create', '--name', 'two', '--network', 'none', IMAGE, 'true']);
  const missing = await fx.k(['run', '--rm', '--network', 'none', IMAGE, 'nosuchcmd']);
  assert.deepEqual([missing.code, missing.stderr], [127, 'kiln: exec: "nosuchcmd": executable file not found in $PATH (check the command name and the image\'s PATH)\n']);
  const exec = await fx.k(['exec', 'one', 'true']);
  assert.deepEqual([exec.code, exec.stderr], [1, 'kiln: container one is not running (start it first: kiln start one)\n']);
  const rm = await fx.k(['rm', 'one', 'ghost', 'two']);
  assert.deepEqual([rm.code, rm.stdout, rm.stderr], [1, 'one\ntwo\n', "kiln: no such container: ghost (list containers with `kiln ps -a`)\n"]);
  assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
  const stop = await fx.k(['stop', 'ghost1', 'ghost2']);
  assert.deepEqual([stop.code, stop.stdout, stop.stderr], [1, '', 'kiln: no such container: ghost1 (list containers with `kiln ps -a`)\nkiln: no such container: ghost2 (list containers with `kiln ps -a`)\n']);

  // rmi: a tag beside another only untags, even while a container uses the image; its last name is refused.
  await fx.ok(['tag', IMAGE, 'other:1']);
  await fx.ok(['create', '--name', 'user', '--network', 'none', IMAGE, 'true']);
  const rmi = await fx.k(['rmi', 'other:1', 'nosuch:1']);
  assert.deepEqual([rmi.code, rmi.stdout, rmi.stderr], [1, 'Untagged: other:1\n', 'kiln: no such image: nosuch:1 (list images with `kiln images`)\n']);
  const last = await fx.k(['rmi', IMAGE]);
  assert.equal(last.code, 1);
  assert.match(oneLine(last.stderr), new RegExp(`^kiln: conflict: unable to remove image ${IMAGE.replace(/\./g, '\\.')} \\([0-9a-f]{12}\\): container user is using it \\(remove the container first with kiln rm user, or use kiln rmi -f\\)$`));
  await fx.ok(['rm', 'user']);
});

test('an image missing locally is pulled first, as Docker does (real registry on 127.0.0.1)', async () => {
  const { startRegistry } = await import('../../../testing/registry.js');
  const { kiln: run } = await import('../../../testing/kiln.js');
  const { tempDir, removeDir } = await import('../../../testing/tempdir.js');
  const reg = await startRegistry();
  const fresh = await tempDir('kiln-ctr-pull-');
  try {
    const ref = `${reg.host}/test/busybox:run`;
    await fx.ok(['tag', IMAGE, ref]);
    await fx.ok(['push', '-q', ref]);
    const r = await run(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled-and-ran'], { root: fresh });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pulled-and-ran\n');
    // what docker prints on stderr when run pulls
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines[0], `Unable to find image '${ref}' locally`);
    assert.equal(lines[1], 'run: Pulling from test/busybox');
    assert.match(lines.at(-2) ?? '', /^Digest: sha256:[0-9a-f]{64}$/);
    assert.equal(lines.at(-1), `Status: Downloaded newer image for ${ref}`);
    const always = await run(['run', '--rm', '--pull', 'always', '--network', 'none', ref, 'true'], { root: fresh });
    assert.equal(always.code, 0, always.stderr);
    assert.doesNotMatch(always.stderr, /Unable to find image/);
    assert.equal(always.stderr.trim().split('\n').at(-1), `Status: Image is up to date for ${ref}`);
    const stored = await run(['run', '--rm', '--network', 'none', ref, 'true'], { root: fresh });
    assert.equal(stored.stderr, '');
    const images = await run(['images', '-q'], { root: fresh });
    assert.equal(images.stdout.trim().split('\n').length, 1);
    const ev = await run(['events', '--since', '10m', '--until', '0s', '--filter', 'type=image', '--format', 'json'], { root: fresh });
    assert.match(ev.stdout, /"action":"pull"/);
    await fx.ok(['rmi', ref]);
  } finally {
    await reg.stop();
    const left = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(fresh));
    await removeDir(fresh);
    assert.deepEqual(left, [], 'mounts left behind');
  }
});
