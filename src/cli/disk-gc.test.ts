/**
 * Disk given back (issue 14, defect 3): the unpacked layers under
 * ROOT/layers that no image, container or build-cache entry uses are removed
 * by `rmi`, `image prune` and `system prune`, and the space they held is in
 * "Total reclaimed space"; a layer another image or a container still uses
 * stays. A removal killed half-way leaves only a trash dir the next one clears.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

const busybox = path.join(testCache(), 'busybox-rootfs.tar');
let tmp: string;
const roots: string[] = [];

/** Unpacked layer dirs (chain ID hex names): what `kiln` must give back. */
const layerDirs = (root: string): string[] => {
  try {
    return readdirSync(path.join(root, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n));
  } catch {
    return [];
  }
};

/** Bytes of the regular files under dir (each inode once), as `du --apparent-size` counts them. */
function bytesUnder(dir: string): number {
  let total = 0;
  const seen = new Set<number>();
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const st = lstatSync(path.join(d, n));
      if (st.isDirectory()) walk(path.join(d, n));
      else if (st.isFile() && !seen.has(st.ino)) {
        seen.add(st.ino);
        total += st.size;
      }
    }
  };
  walk(dir);
  return total;
}

/** "Total reclaimed space: 2.14MB" → 2140000 (docker's powers of 1000). */
function reclaimed(stdout: string): number {
  const m = /^Total reclaimed space: ([\d.]+)(B|kB|MB|GB)$/m.exec(stdout);
  assert.ok(m, `no "Total reclaimed space" line in:\n${stdout}`);
  return Number(m[1]) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[m[2] as 'B']!;
}

function newRoot(name: string) {
  const root = path.join(tmp, name);
  roots.push(root);
  return { root, k: (args: string[]) => kilnOk(['--backend', 'local', ...args], { root }) };
}

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-diskgc-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('rmi gives back the unpacked layers once no image or container uses them; one another image or a container uses stays', async () => {
  const { root, k } = newRoot('shared');
  await k(['import', busybox, 'gc/base:1']);
  await k(['import', '-c', 'ENV OTHER=1', busybox, 'gc/other:1']); // the same layer, another image
  await k(['run', '--name', 'c1', '--network', 'none', 'gc/base:1', 'true']);
  const dirs = layerDirs(root);
  assert.equal(dirs.length, 1, 'run unpacked the one layer');
  const layerBytes = bytesUnder(path.join(root, 'layers', dirs[0]!));

  const rmi = await k(['rmi', '-f', 'gc/base:1']);
  assert.match(rmi.stdout, /^Untagged: gc\/base:1$/m);
  assert.deepEqual(layerDirs(root), dirs, 'gc/other:1 and container c1 still use the layer');
  await k(['rmi', 'gc/other:1']);
  assert.deepEqual(layerDirs(root), dirs, 'container c1 still uses the layer');
  assert.ok(readdirSync(path.join(root, 'mounts')).some((n) => n.startsWith('container-')), "the container's root is still there");

  const pruned = await k(['system', 'prune', '-f']);
  assert.match(pruned.stdout, /^deleted container: [a-f0-9]{64}$/m);
  assert.deepEqual(layerDirs(root), [], 'nothing uses the layer any more');
  assert.ok(reclaimed(pruned.stdout) >= layerBytes * 0.99, `reported ${reclaimed(pruned.stdout)} bytes, the layer alone held ${layerBytes}`);
  assert.equal((await k(['system', 'check'])).code, 0);
});

test('rmi of the last image removes its layers at once; image prune and system prune report 0B when nothing is left', async () => {
  const { root, k } = newRoot('alone');
  await k(['import', busybox, 'gc/alone:1']);
  await k(['run', '--rm', '--network', 'none', 'gc/alone:1', 'true']);
  assert.equal(layerDirs(root).length, 1);
  const rmi = await k(['rmi', 'gc/alone:1']);
  assert.match(rmi.stdout, /^Untagged: gc\/alone:1\nDeleted: sha256:[a-f0-9]{64}\n$/);
  assert.deepEqual(layerDirs(root), []);
  assert.equal((await k(['image', 'prune', '-f'])).stdout, 'Total reclaimed space: 0B\n');
  assert.match((await k(['system', 'prune', '-f'])).stdout, /^Total reclaimed space: 0B$/m);
});

test('a removal killed half-way (trash and temp dirs left) breaks nothing: the next prune clears them, run unpacks again', async () => {
  const { root, k } = newRoot('killed');
  await k(['import', busybox, 'gc/killed:1']);
  await k(['run', '--rm', '--network', 'none', 'gc/killed:1', 'true']);
  const [hex] = layerDirs(root);
  // What kill -9 leaves: a layer half moved out (in the trash, half deleted), and an unpack of a dead process.
  const trash = path.join(root, 'layers', '.trash', `${hex}-0badf00d`, 'fs', 'bin');
  mkdirSync(trash, { recursive: true });
  writeFileSync(path.join(trash, 'half'), 'x'.repeat(1000));
  mkdirSync(path.join(root, 'layers', '.tmp-999999999-0badf00d', 'fs'), { recursive: true });
  assert.equal((await k(['run', '--rm', '--network', 'none', 'gc/killed:1', 'true'])).code, 0);
  assert.equal((await k(['system', 'check'])).code, 0);

  await k(['system', 'prune', '-f']);
  assert.deepEqual(readdirSync(path.join(root, 'layers')).filter((n) => n.startsWith('.')), [], 'trash and dead temp dirs cleared');
  assert.deepEqual(layerDirs(root), [hex], 'gc/killed:1 still uses its layer');
  // The layer gone by hand, as a removal killed after the rename leaves it: the next run unpacks it again.
  rmSync(path.join(root, 'layers', hex!), { recursive: true });
  assert.equal((await k(['run', '--rm', '--network', 'none', 'gc/killed:1', 'cat', '/bin/busybox'])).code, 0);
  assert.deepEqual(layerDirs(root), [hex]);
  assert.equal((await kiln(['--backend', 'local', 'system', 'check'], { root })).code, 0);
});
