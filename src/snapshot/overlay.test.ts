/**
 * The layered snapshotter on real overlayfs and on its copy fallback: a
 * chain with a deleted lower file, an opaque directory and a replaced file
 * reads the same both ways; views are read-only; commit turns a root's
 * upper dir into the next layer; nothing stays mounted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sha256Digest } from '../oci/digest.js';
import { chainIds } from '../oci/config.js';
import { overlaySnapshotter } from './overlay.js';
import { layerTar as suiteLayerTar, tree } from './testsuite.js';

let tmp: string;
before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-snap-'));
});
after(() => {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(tmp));
  rmSync(tmp, { recursive: true, force: true });
  assert.deepEqual(mounts, [], 'mounts left behind');
});

/** A layer tar made by GNU tar from files (path → content, or null for a whiteout of that path). */
const layerTar = (name: string, files: Record<string, string | null>, opaque: string[] = []): string => suiteLayerTar(tmp, name, files, opaque).file;

const EXPECTED = ['a/', 'a/keep=1', 'b/', 'b/new=3', 'c=replaced'];

test('a chain with whiteouts and an opaque dir reads the same on overlay and on the copy fallback', async () => {
  const l1 = layerTar('l1', { 'a/keep': '1', 'a/gone': '2', 'b/old': 'x', c: 'original' });
  const l2 = layerTar('l2', { 'a/gone': null, 'b/new': '3', c: 'replaced' }, ['b']);
  const diffs = [sha256Digest(readFileSync(l1)), sha256Digest(readFileSync(l2))];
  const chain = chainIds(diffs);
  const layers = [l1, l2].map((file, i) => ({ chainId: chain[i]!, open: async () => createReadStream(file) as NodeJS.ReadableStream }));
  for (const noOverlay of [false, true]) {
    const root = path.join(tmp, `root-${noOverlay}`);
    const snap = overlaySnapshotter(root, { noOverlay });
    const chainDir = await snap.unpack(layers);
    assert.equal(path.basename(chainDir), chain[1]!.slice(7));
    assert.equal(await snap.unpack(layers), chainDir, 'unpacked once, found again');
    const m = await snap.prepare('c1', chainDir);
    assert.equal(m.kind, noOverlay ? 'copy' : 'overlay');
    assert.deepEqual(tree(m.rootfs), EXPECTED, `prepare (${m.kind})`);
    await snap.remove('c1');
    const v = await snap.view('v1', chainDir);
    assert.deepEqual(tree(v.rootfs), EXPECTED, `view (${v.kind})`);
    await snap.remove('v1');
    assert.deepEqual(readdirSync(path.join(root, 'mounts')), []);
  }
});

test('commit keeps a root\'s upper dir as the next layer of the chain', async () => {
  const root = path.join(tmp, 'root-commit');
  const snap = overlaySnapshotter(root);
  const l1 = layerTar('base', { 'etc/conf': 'v1', 'bin/tool': 't' });
  const d1 = sha256Digest(readFileSync(l1));
  const chainDir = await snap.unpack([{ chainId: d1, open: async () => createReadStream(l1) as NodeJS.ReadableStream }]);
  const m = await snap.prepare('step', chainDir);
  assert.equal(m.kind, 'overlay');
  writeFileSync(path.join(m.rootfs, 'etc/conf'), 'v2');
  rmSync(path.join(m.rootfs, 'bin/tool'));
  const next = chainIds([d1, sha256Digest('made up diff id')])[1]!;
  const nextDir = await snap.commit('step', next);
  assert.equal(path.basename(nextDir), next.slice(7));
  assert.ok(!existsSync(path.join(root, 'mounts', 'step')));
  // The committed layer is reused without its blob being opened.
  const again = await snap.unpack([
    { chainId: d1, open: async () => createReadStream(l1) as NodeJS.ReadableStream },
    { chainId: next, open: async () => assert.fail('the committed layer must not be extracted again') },
  ]);
  assert.equal(again, nextDir);
  const v = await snap.view('v', again);
  assert.deepEqual(tree(v.rootfs), ['bin/', 'etc/', 'etc/conf=v2']);
  await snap.remove('v');
});

test('detach unmounts a root and keeps its upper dir, which commit then keeps as the next layer', async () => {
  const root = path.join(tmp, 'root-detach');
  const snap = overlaySnapshotter(root);
  const l1 = layerTar('detach-base', { 'etc/conf': 'v1' });
  const d1 = sha256Digest(readFileSync(l1));
  const chainDir = await snap.unpack([{ chainId: d1, open: async () => createReadStream(l1) as NodeJS.ReadableStream }]);
  const m = await snap.prepare('step', chainDir);
  writeFileSync(path.join(m.rootfs, 'etc/conf'), 'v2');
  writeFileSync(path.join(m.rootfs, 'new'), 'n');
  await snap.detach!('step');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(m.rootfs), 'unmounted');
  assert.deepEqual(tree(m.upper!), ['etc/', 'etc/conf=v2', 'new=n'], 'the upper dir is kept');
  const next = chainIds([d1, sha256Digest('detached diff id')])[1]!;
  const v = await snap.view('v', await snap.commit('step', next));
  assert.deepEqual(tree(v.rootfs), ['etc/', 'etc/conf=v2', 'new=n']);
  await snap.remove('v');
  await snap.remove('step'); // gone already: fine
});

test('a root whose path holds a space and a tab is unmounted on remove (mountinfo escapes them)', async () => {
  const root = path.join(tmp, 'root with space\tand tab');
  const snap = overlaySnapshotter(root);
  const l1 = layerTar('spaced', { 'etc/conf': 'v1' });
  const chainDir = await snap.unpack([{ chainId: sha256Digest(readFileSync(l1)), open: async () => createReadStream(l1) as NodeJS.ReadableStream }]);
  const m = await snap.prepare('step', chainDir);
  assert.equal(m.kind, 'overlay');
  assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes('root\\040with\\040space\\011and\\040tab'), 'mounted');
  await snap.remove('step');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes('root\\040with\\040space'), 'unmounted');
  assert.deepEqual(readdirSync(path.join(root, 'mounts')), []);
});
