/**
 * A kiln CLI killed with SIGKILL while `run -d` makes a container on a real
 * containerd: the next `ps -a` shows the container (Dead) the same way each
 * time, `start` refuses it in one line, and `container prune` / `system
 * prune` remove it with everything containerd held for it (record,
 * snapshot, lease) and its directory; the prunes also take exited containers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { IMAGE } from '../../testing/container-fixture.js';
import { containerdContainerFixture, CTR_NAMESPACE as NS, ctrIds as ids, type ContainerdContainerFixture } from '../../testing/containerd-container-fixture.js';

let fx: ContainerdContainerFixture;
before(async () => {
  fx = await containerdContainerFixture();
});
after(() => fx?.cleanup());

const containersDir = () => path.join(fx.root, 'containerd', NS);
const containerDirs = () => (existsSync(containersDir()) ? readdirSync(containersDir()).filter((d) => /^[0-9a-f]{64}$/.test(d)) : []);

/** Starts `kiln run -d NAME` and kills it with SIGKILL as soon as its container record exists (its directory appears next). */
async function killedRun(name: string): Promise<string> {
  const before = new Set(containerDirs());
  const [file, ...args] = fx.argv(['run', '-d', '--name', name, IMAGE, 'sleep', '1000']);
  const child = spawn(file!, args, { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  const deadline = Date.now() + 60_000;
  let id: string | undefined;
  // A busy wait: the CLI is another process, and the window after the directory appears is the root's unpack and mount.
  while (!id && Date.now() < deadline && child.exitCode === null) id = containerDirs().find((d) => !before.has(d));
  child.kill('SIGKILL');
  await exited;
  assert.ok(id, 'the CLI made no container directory before it was killed');
  return id;
}

/** What containerd holds: kiln's container records, tasks, writable roots (snapshots named by a container id), kiln's leases. */
async function held(): Promise<string[]> {
  const snapshots = ids(await fx.ctr(['snapshots', '--snapshotter', 'overlayfs', 'ls'])).filter((s) => /^[0-9a-f]{64}$/.test(s) && !s.startsWith('sha256'));
  const leases = ids(await fx.ctr(['leases', 'ls'])).filter((l) => l.startsWith('kiln-'));
  const roots = [];
  for (const s of snapshots) if ((await fx.ctr(['snapshots', '--snapshotter', 'overlayfs', 'info', s])).includes('"Kind": "Active"')) roots.push(s);
  return [...ids(await fx.ctr(['containers', 'ls'])).map((c) => `container ${c}`), ...ids(await fx.ctr(['tasks', 'ls'])).map((t) => `task ${t}`), ...roots.map((r) => `snapshot ${r}`), ...leases.map((l) => `lease ${l}`)];
}

test('kill -9 of the CLI during run -d: ps -a shows the container Dead (twice the same), start refuses it, container prune removes all of it', async () => {
  const id = await killedRun('halfmade');
  const ps1 = (await fx.ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Status}}'])).stdout;
  assert.equal(ps1, `${id} halfmade Dead\n`);
  assert.equal((await fx.ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Status}}'])).stdout, ps1);
  assert.equal((await fx.ok(['ps', '-aq', '--filter', 'status=dead'])).stdout, `${id.slice(0, 12)}\n`);
  const start = await fx.k(['start', 'halfmade']);
  assert.equal(start.code, 1);
  assert.match(start.stderr, /^kiln: container halfmade was never fully made .*kiln rm halfmade/);
  assert.equal(start.stderr.trim().split('\n').length, 1);
  assert.ok((await held()).includes(`container ${id}`));

  const pruned = await fx.ok(['container', 'prune', '-f']);
  assert.match(pruned.stdout, new RegExp(id));
  assert.equal((await fx.ok(['ps', '-aq'])).stdout, '');
  assert.deepEqual(await held(), [], 'containerd still holds some of the killed run');
  assert.deepEqual(containerDirs(), []);
  // The name is free again and a run works.
  await fx.ok(['run', '--rm', '--name', 'halfmade', '--network', 'none', IMAGE, 'true']);
});

test('system prune removes a container a killed CLI left and exited containers; a running one stays', async () => {
  const id = await killedRun('halfmade2');
  await fx.ok(['run', '--name', 'exited', '--network', 'none', IMAGE, 'true']);
  await fx.ok(['run', '-d', '--name', 'runs', '--network', 'none', IMAGE, 'sleep', '1000']);
  const out = (await fx.ok(['system', 'prune', '-f'])).stdout;
  assert.match(out, new RegExp(`deleted container: ${id}\n`));
  assert.equal(out.match(/deleted container: /g)?.length, 2, out);
  assert.equal((await fx.ok(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'runs\n');
  await fx.ok(['rm', '-f', 'runs']);
  assert.deepEqual(await held(), []);
  assert.deepEqual(containerDirs(), []);
});
