/**
 * The conformance suite of the LayeredSnapshotter contract, run against every
 * implementation: kiln's overlay snapshots (./overlay.test.ts, on overlayfs
 * and on the copy fallback) and containerd's snapshotter
 * (src/engine/containerd/snapshotter.test.ts):
 * `snapshotterSuite('overlay', (t) => open…)`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { chainIds } from '../oci/config.js';
import { sha256Digest } from '../oci/digest.js';
import type { ChainLayer, LayeredSnapshotter } from './snapshotter.js';

export interface SnapshotterHarness {
  snapshotter: LayeredSnapshotter;
  /** The chain layer of an uncompressed layer tar, its blob put where this snapshotter unpacks from. */
  layer(tarFile: string, chainId: string, diffId: string): Promise<ChainLayer>;
  /** Runs a test's body with the harness as the snapshotter needs it (containerd: its views under a lease). */
  scope?<T>(fn: (h: SnapshotterHarness) => Promise<T>): Promise<T>;
  /** Where the snapshotter mounts roots: nothing may stay mounted under it after a test. */
  mountsUnder: string;
  /** The kind of root prepare gives (overlay, or copy for the fallback). */
  kind: 'overlay' | 'copy';
}

/** A layer tar made by GNU tar from files (path → content, or null for a whiteout of that path), and its diff ID. */
export function layerTar(dir: string, name: string, files: Record<string, string | null>, opaque: string[] = []): { file: string; diffId: string } {
  const src = path.join(dir, `src-${name}`);
  mkdirSync(src, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    const target = content === null ? path.join(path.dirname(p), `.wh.${path.basename(p)}`) : p;
    mkdirSync(path.dirname(path.join(src, target)), { recursive: true });
    writeFileSync(path.join(src, target), content ?? '');
  }
  for (const d of opaque) {
    mkdirSync(path.join(src, d), { recursive: true });
    writeFileSync(path.join(src, d, '.wh..wh..opq'), '');
  }
  const file = path.join(dir, `${name}.tar`);
  execFileSync('tar', ['-cf', file, '-C', src, '--sort=name', '--owner=0', '--group=0', '.']);
  return { file, diffId: sha256Digest(readFileSync(file)) };
}

/** Files and directories under dir, sorted: `a/`, `a/keep=1`. */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        walk(path.join(d, e.name), r);
      } else out.push(`${r}=${readFileSync(path.join(d, e.name), 'utf8')}`);
    }
  };
  walk(dir, '');
  return out;
}

const mountedUnder = (dir: string): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` ${dir}/`) || l.includes(` ${dir} `));

export function snapshotterSuite(label: string, open: (t: TestContext) => Promise<SnapshotterHarness>): void {
  /** A fresh harness and a scratch dir for layer tars; afterwards, nothing is mounted under the snapshotter's mount dir. */
  const run = (name: string, body: (h: SnapshotterHarness, dir: string) => Promise<void>) =>
    test(`${label}: ${name}`, async (t) => {
      const h = await open(t);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-snapsuite-'));
      try {
        await (h.scope ?? ((fn) => fn(h)))((scoped) => body(scoped, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assert.deepEqual(mountedUnder(h.mountsUnder), [], 'nothing stays mounted');
    });

  run('a chain with a whiteout and an opaque dir reads merged in a writable root and in a view; it is unpacked once', async (h, dir) => {
    const l1 = layerTar(dir, 'l1', { 'a/keep': '1', 'a/gone': '2', 'b/old': 'x', c: 'original' });
    const l2 = layerTar(dir, 'l2', { 'a/gone': null, 'b/new': '3', c: 'replaced' }, ['b']);
    const chain = chainIds([l1.diffId, l2.diffId]);
    const layers = [await h.layer(l1.file, chain[0]!, l1.diffId), await h.layer(l2.file, chain[1]!, l2.diffId)];
    const top = await h.snapshotter.unpack(layers);
    assert.equal(await h.snapshotter.unpack(layers), top, 'found again, not unpacked twice');
    const expected = ['a/', 'a/keep=1', 'b/', 'b/new=3', 'c=replaced'];
    const m = await h.snapshotter.prepare('suite-root', top);
    assert.equal(m.kind, h.kind);
    assert.deepEqual(tree(m.rootfs), expected, 'writable root');
    writeFileSync(path.join(m.rootfs, 'scratch'), 'only in this root');
    await h.snapshotter.remove('suite-root');
    const v = await h.snapshotter.view('suite-view', top);
    assert.deepEqual(tree(v.rootfs), expected, 'view: the root\'s writes went with it');
    await h.snapshotter.remove('suite-view');
  });

  run('commit keeps a root\'s changes as the next layer of the chain, found again without its blob', async (h, dir) => {
    const base = layerTar(dir, 'base', { 'etc/conf': 'v1', 'bin/tool': 't' });
    const baseLayer = await h.layer(base.file, base.diffId, base.diffId);
    const top = await h.snapshotter.unpack([baseLayer]);
    const m = await h.snapshotter.prepare('suite-step', top);
    writeFileSync(path.join(m.rootfs, 'etc/conf'), 'v2');
    rmSync(path.join(m.rootfs, 'bin/tool'));
    const diffId = sha256Digest(`made up diff id ${label}`);
    const next = chainIds([base.diffId, diffId])[1]!;
    const committed = await h.snapshotter.commit('suite-step', next);
    const never: ChainLayer = {
      chainId: next,
      open: async () => assert.fail('a committed layer must not be extracted again'),
      descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest('no such blob'), size: 1 },
      diffId,
    };
    assert.equal(await h.snapshotter.unpack([baseLayer, never]), committed);
    const v = await h.snapshotter.view('suite-after', committed);
    assert.deepEqual(tree(v.rootfs), ['bin/', 'etc/', 'etc/conf=v2']);
    await h.snapshotter.remove('suite-after');
    const v0 = await h.snapshotter.view('suite-before', top);
    assert.deepEqual(tree(v0.rootfs), ['bin/', 'bin/tool=t', 'etc/', 'etc/conf=v1'], 'the chain below is unchanged');
    await h.snapshotter.remove('suite-before');
  });

  run('remove of a key that was never prepared, or twice, is fine; the rootfs is gone after it', async (h, dir) => {
    const l = layerTar(dir, 'one', { f: '1' });
    const top = await h.snapshotter.unpack([await h.layer(l.file, l.diffId, l.diffId)]);
    await h.snapshotter.remove('suite-never-prepared');
    const m = await h.snapshotter.prepare('suite-twice', top);
    assert.deepEqual(tree(m.rootfs), ['f=1']);
    await h.snapshotter.remove('suite-twice');
    await h.snapshotter.remove('suite-twice');
    assert.ok(!existsSync(path.join(m.rootfs, 'f')), 'the root is unmounted');
  });
}
