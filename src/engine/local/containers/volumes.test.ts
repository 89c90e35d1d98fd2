import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { containerFixture, IMAGE, type ContainerFixture } from '../../../testing/container-fixture.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
});
after(() => fx.cleanup());

const run = (args: string[]) => fx.ok(['run', '--rm', '--network', 'none', ...args]);

test('a named volume starts with the image content at its path and keeps data across containers', async () => {
  const first = await run(['-v', 'etcvol:/etc', IMAGE, 'sh', '-c', 'grep -c root /etc/passwd; echo kept > /etc/mine']);
  assert.equal(first.stdout, '1\n');
  const second = await run(['--mount', 'type=volume,source=etcvol,target=/data,readonly', IMAGE, 'sh', '-c', 'cat /data/mine; touch /data/x 2>&1 | grep -c Read-only']);
  assert.equal(second.stdout, 'kept\n1\n');
  const ls = await fx.ok(['volume', 'ls', '-q']);
  assert.equal(ls.stdout, 'etcvol\n');
  const inspect = JSON.parse((await fx.ok(['volume', 'inspect', 'etcvol'])).stdout) as { Name: string; Mountpoint: string }[];
  assert.equal(await readFile(path.join(inspect[0]!.Mountpoint, 'mine'), 'utf8'), 'kept\n');

  await fx.ok(['create', '--name', 'user', '-v', 'etcvol:/etc', IMAGE, 'true']);
  const busy = await fx.k(['volume', 'rm', 'etcvol']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /^kiln: volume etcvol is in use by container user/);
  await fx.ok(['rm', 'user']);
  await fx.ok(['volume', 'rm', 'etcvol']);
  assert.equal((await fx.ok(['volume', 'ls', '-q'])).stdout, '');
});

test('volume rm and volume prune keep a volume a created container names with --mount source=; prune records destroy events', async () => {
  await fx.ok(['volume', 'create', 'mountvol']);
  await fx.ok(['volume', 'create', 'spare']);
  await fx.ok(['create', '--name', 'mounter', '--mount', 'type=volume,source=mountvol,target=/d', IMAGE, 'true']);
  const busy = await fx.k(['volume', 'rm', 'mountvol']);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, /^kiln: volume mountvol is in use by container mounter/);
  const pruned = await fx.ok(['volume', 'prune', '-f']);
  assert.equal(pruned.stdout, 'Deleted Volumes:\nspare\nTotal reclaimed volumes: 1\n');
  const events = await fx.ok(['events', '--since', '10m', '--until', '0s', '--filter', 'type=volume', '--format', 'json']);
  const seen = events.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; id: string }).map((e) => `${e.action} ${e.id}`);
  assert.deepEqual(seen.filter((e) => e.endsWith(' spare') || e.endsWith(' mountvol')), ['create mountvol', 'create spare', 'destroy spare']);
  await fx.ok(['rm', 'mounter']);
  await fx.ok(['volume', 'rm', 'mountvol']);
});

test('bind mounts (rw and :ro), --mount type=bind and tmpfs', async () => {
  const host = await mkdtemp(path.join(tmpdir(), 'kiln-bind-'));
  try {
    await writeFile(path.join(host, 'in.txt'), 'from host\n');
    await run(['-v', `${host}:/h`, IMAGE, 'sh', '-c', 'cat /h/in.txt > /h/out.txt']);
    assert.equal(await readFile(path.join(host, 'out.txt'), 'utf8'), 'from host\n');
    const ro = await fx.k(['run', '--rm', '--network', 'none', '-v', `${host}:/h:ro`, IMAGE, 'touch', '/h/nope']);
    assert.equal(ro.code, 1);
    const m = await run(['--mount', `type=bind,source=${host},target=/b`, '--tmpfs', '/scratch:size=1m', '--mount', 'type=tmpfs,target=/t', IMAGE, 'sh', '-c', 'cat /b/in.txt; grep -E " /(scratch|t) " /proc/mounts | cut -d" " -f1-3 | sort']);
    assert.equal(m.stdout, 'from host\ntmpfs /scratch tmpfs\ntmpfs /t tmpfs\n');
    const missing = await fx.k(['run', '--rm', '--network', 'none', '-v', `${host}/nope:/x`, IMAGE, 'true']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /bind source path does not exist/);
  } finally {
    await rm(host, { recursive: true, force: true });
  }
});

test('volume create/prune: unused volumes go, used ones stay', async () => {
  await fx.ok(['volume', 'create', 'keepme']);
  await fx.ok(['volume', 'create', 'dropme']);
  await fx.ok(['create', '--name', 'holder', '-v', 'keepme:/k', IMAGE, 'true']);
  const pruned = await fx.ok(['volume', 'prune', '-f']);
  assert.match(pruned.stdout, /dropme/);
  assert.equal((await fx.ok(['volume', 'ls', '-q'])).stdout, 'keepme\n');
  await fx.ok(['rm', 'holder']);
  await fx.ok(['volume', 'rm', 'keepme']);
});

test('volume ls --filter name=, label=, driver= (values of one key are alternatives, keys must all hold); an unknown key is one line', async () => {
  await fx.ok(['volume', 'create', '-l', 'team=web', 'web-data']);
  await fx.ok(['volume', 'create', '-l', 'team=db', '-l', 'backup', 'db-data']);
  await fx.ok(['volume', 'create', 'scratch']);
  const ls = async (...f: string[]) => (await fx.ok(['volume', 'ls', '-q', ...f.flatMap((x) => ['--filter', x])])).stdout.trim().split('\n').filter(Boolean).sort();
  assert.deepEqual(await ls('name=data'), ['db-data', 'web-data']);
  assert.deepEqual(await ls('label=team=web'), ['web-data']);
  assert.deepEqual(await ls('label=backup'), ['db-data']);
  assert.deepEqual(await ls('label=team', 'name=web'), ['web-data']);
  assert.deepEqual(await ls('name=scratch', 'name=web'), ['scratch', 'web-data']);
  assert.deepEqual(await ls('driver=local', 'name=scr'), ['scratch']);
  const bad = await fx.k(['volume', 'ls', '--filter', 'size=1']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "kiln: invalid filter 'size' (kiln volume ls supports --filter name=, label=, driver=, dangling=)\n");
  await fx.ok(['volume', 'rm', 'web-data', 'db-data', 'scratch']);
});

test('volume ls -f dangling=true|false: volumes no container uses (created or exited ones count, by -v or --mount), docker\'s columns', async () => {
  for (const v of ['by-v', 'by-mount', 'loose']) await fx.ok(['volume', 'create', v]);
  await fx.ok(['create', '--name', 'holds-v', '--network', 'none', '-v', 'by-v:/data', IMAGE, 'true']);
  await fx.ok(['run', '--name', 'holds-mount', '--network', 'none', '--mount', 'type=volume,source=by-mount,target=/m', IMAGE, 'true']);
  const ls = async (f: string) => (await fx.ok(['volume', 'ls', '--filter', f])).stdout;
  assert.equal(await ls('dangling=true'), 'DRIVER    VOLUME NAME\nlocal     loose\n');
  assert.equal(await ls('dangling=false'), 'DRIVER    VOLUME NAME\nlocal     by-mount\nlocal     by-v\n');
  assert.equal((await fx.ok(['volume', 'ls', '-q', '-f', 'dangling=true', '-f', 'name=by'])).stdout, '');
  const bad = await fx.k(['volume', 'ls', '-f', 'dangling=maybe']);
  assert.deepEqual([bad.code, bad.stderr], [1, "kiln: invalid filter 'dangling=maybe' (use --filter dangling=true or dangling=false)\n"]);
  await fx.ok(['rm', 'holds-v', 'holds-mount']);
  assert.equal(await ls('dangling=true'), 'DRIVER    VOLUME NAME\nlocal     by-mount\nlocal     by-v\nlocal     loose\n');
  await fx.ok(['volume', 'rm', 'by-v', 'by-mount', 'loose']);
});

test('system prune removes stopped containers (and with --volumes, unused volumes); running ones stay', async () => {
  await fx.ok(['create', '--name', 'stopped', '--network', 'none', IMAGE, 'true']);
  await fx.ok(['run', '-d', '--name', 'running', '--network', 'none', '-v', 'inuse:/d', IMAGE, 'sleep', '1000']);
  await fx.ok(['volume', 'create', 'unused']);
  const out = await fx.ok(['system', 'prune', '-f', '--volumes']);
  assert.match(out.stdout, /deleted container: [0-9a-f]{64}\n/);
  assert.match(out.stdout, /deleted volume: unused\n/);
  const names = (JSON.parse((await fx.ok(['ps', '-a', '--format', 'json'])).stdout) as { name: string }[]).map((c) => c.name);
  assert.deepEqual(names, ['running']);
  assert.equal((await fx.ok(['volume', 'ls', '-q'])).stdout, 'inuse\n');
  await fx.ok(['rm', '-f', 'running']);
  await fx.ok(['volume', 'rm', 'inuse']);
});
