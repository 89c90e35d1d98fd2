/**
 * The volume part of the ContainerEngine conformance suite (./conformance.ts):
 * named volumes seeded from the image and kept across containers, `volume
 * ls/rm/prune` seeing what the backend's containers use, binds (rw, `:ro`,
 * `--mount type=bind`), tmpfs (`--tmpfs`, `--mount type=tmpfs`), anonymous
 * volumes gone with `rm -v`, and `system prune --volumes`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IMAGE, type ContainerFixture } from '../../testing/container-fixture.js';

export function volumeConformance(fixture: () => ContainerFixture, none: string[]): void {
  test('volumes: a named volume starts with the image content and outlives its containers; volume ls/rm/prune see the containers that use one', async () => {
    const fx = fixture();
    const first = await fx.ok(['run', '--rm', ...none, '-v', 'etcvol:/etc', IMAGE, 'sh', '-c', 'grep -c root /etc/passwd; echo kept > /etc/mine']);
    assert.equal(first.stdout, '1\n');
    const second = await fx.ok(['run', '--rm', ...none, '--mount', 'type=volume,source=etcvol,target=/data,readonly', IMAGE, 'sh', '-c', 'cat /data/mine; touch /data/x 2>&1 | grep -c Read-only']);
    assert.equal(second.stdout, 'kept\n1\n');
    assert.equal((await fx.ok(['volume', 'ls', '-q'])).stdout, 'etcvol\n');
    const inspect = JSON.parse((await fx.ok(['volume', 'inspect', 'etcvol'])).stdout) as { Name: string; Mountpoint: string }[];
    assert.equal(await readFile(path.join(inspect[0]!.Mountpoint, 'mine'), 'utf8'), 'kept\n');

    await fx.ok(['volume', 'create', 'spare']);
    await fx.ok(['run', '-d', '--name', 'user', ...none, '-v', 'etcvol:/etc', '-v', '/anon', IMAGE, 'sleep', '1000']);
    const anon = (await fx.ok(['volume', 'ls', '-q'])).stdout.split('\n').filter((v) => /^[0-9a-f]{64}$/.test(v));
    assert.equal(anon.length, 1, 'one anonymous volume for -v /anon');
    const busy = await fx.k(['volume', 'rm', 'etcvol']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /^kiln: volume etcvol is in use by container user/);
    assert.equal((await fx.ok(['volume', 'ls', '-q', '-f', 'dangling=true'])).stdout, 'spare\n');
    assert.equal((await fx.ok(['volume', 'prune', '-f'])).stdout, 'Deleted Volumes:\nspare\nTotal reclaimed volumes: 1\n');
    await fx.ok(['rm', '-f', '-v', 'user']);
    assert.equal((await fx.ok(['volume', 'ls', '-q'])).stdout, 'etcvol\n', 'rm -v removed the anonymous volume, kept the named one');

    await fx.ok(['run', '--name', 'exited', ...none, '-v', 'etcvol:/etc', IMAGE, 'true']);
    const pruned = await fx.ok(['system', 'prune', '-f', '--volumes']);
    assert.match(pruned.stdout, /^deleted container: [0-9a-f]{64}\n/);
    assert.match(pruned.stdout, /deleted volume: etcvol\n/);
    assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
    assert.equal((await fx.ok(['volume', 'ls', '-q'])).stdout, '');
  });

  test('volumes: binds (rw, :ro, --mount type=bind), --tmpfs and --mount type=tmpfs; a missing bind source is one line', async () => {
    const fx = fixture();
    const host = await mkdtemp(path.join(tmpdir(), 'kiln-bind-'));
    try {
      await writeFile(path.join(host, 'in.txt'), 'from host\n');
      await fx.ok(['run', '--rm', ...none, '-v', `${host}:/h`, IMAGE, 'sh', '-c', 'cat /h/in.txt > /h/out.txt']);
      assert.equal(await readFile(path.join(host, 'out.txt'), 'utf8'), 'from host\n');
      const ro = await fx.k(['run', '--rm', ...none, '-v', `${host}:/h:ro`, IMAGE, 'touch', '/h/nope']);
      assert.equal(ro.code, 1);
      const m = await fx.ok(['run', '--rm', ...none, '--mount', `type=bind,source=${host},target=/b`, '--tmpfs', '/scratch:size=1m', '--mount', 'type=tmpfs,target=/t', IMAGE, 'sh', '-c', 'cat /b/in.txt; grep -E " /(scratch|t) " /proc/mounts | cut -d" " -f1-3 | sort']);
      assert.equal(m.stdout, 'from host\ntmpfs /scratch tmpfs\ntmpfs /t tmpfs\n');
      const missing = await fx.k(['run', '--rm', ...none, '-v', `${host}/nope:/x`, IMAGE, 'true']);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^kiln: bind source path does not exist: /);
      assert.equal(missing.stderr.trim().split('\n').length, 1);
      assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });
}
