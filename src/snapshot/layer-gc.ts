/**
 * Giving back unpacked layers (./overlay.ts keeps them as `layers/<hex>`):
 * every layer dir outside the chains the caller says are in use, and outside
 * the chains of every root under `mounts/` (containers, build steps), is
 * removed, children before parents. Crash-safe: a dir is first renamed into
 * `layers/.trash/` (atomic: the layer is then simply absent, and the next
 * unpack of it extracts it again), then deleted; what a killed removal left in
 * the trash, and the `.tmp-` dirs of unpacks whose process is gone, are
 * deleted by the next run. The caller holds the store's lock.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../errors.js';
import { digestHex } from '../oci/digest.js';
import { ifExists, tempOwner } from '../util/fsutil.js';
import { isAlive } from '../util/process.js';

const LAYER = /^[a-f0-9]{64}$/;

export interface LayerUsage {
  /** Layer dir names (chain ID hex) and the bytes each holds. */
  layers: Map<string, number>;
  /** The names some chain in use reaches (the given ones, the roots under mounts/, and their parents). */
  used: Set<string>;
}

/** Bytes of the regular files under `dir`, each inode once (hard links inside a layer share one). */
export async function bytesUnder(dir: string, seen = new Set<number>()): Promise<number> {
  let total = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return 0;
    throw e;
  }
  for (const n of names) {
    const st = await ifExists(lstat(path.join(dir, n)));
    if (!st) continue;
    if (st.isDirectory()) total += await bytesUnder(path.join(dir, n), seen);
    else if (st.isFile() && !seen.has(st.ino)) {
      seen.add(st.ino);
      total += st.size;
    }
  }
  return total;
}

const parentOf = async (layersDir: string, hex: string): Promise<string> =>
  ((await ifExists(readFile(path.join(layersDir, hex, 'parent'), 'utf8'))) ?? '').trim();

/**
 * The unpacked layers under `root` and which of them the chains `inUse`
 * (chain IDs or hex) and the mounted roots reach; with `sizes: false` the
 * layers' bytes are left at 0 (walking every file of every layer is slow).
 */
export async function layerUsage(root: string, inUse: Iterable<string>, opts: { sizes?: boolean } = {}): Promise<LayerUsage> {
  const layersDir = path.join(root, 'layers');
  const layers = new Map<string, number>();
  for (const n of (await ifExists(readdir(layersDir))) ?? []) {
    if (LAYER.test(n)) layers.set(n, opts.sizes === false ? 0 : await bytesUnder(path.join(layersDir, n)));
  }
  const tops = [...inUse].map((c) => digestHex(c));
  const mountsDir = path.join(root, 'mounts');
  for (const key of (await ifExists(readdir(mountsDir))) ?? []) {
    const p = (await ifExists(readFile(path.join(mountsDir, key, 'parent'), 'utf8')))?.trim();
    if (p && LAYER.test(p)) tops.push(p);
  }
  const used = new Set<string>();
  for (let hex: string | undefined = tops.pop(); hex !== undefined; hex = tops.pop()) {
    if (used.has(hex)) continue;
    used.add(hex);
    const parent = await parentOf(layersDir, hex);
    if (LAYER.test(parent)) tops.push(parent);
  }
  return { layers, used };
}

/** Deletes what killed removals and killed unpacks left; returns the bytes freed. */
async function clearLeftovers(layersDir: string): Promise<number> {
  let bytes = 0;
  const trash = path.join(layersDir, '.trash');
  for (const n of (await ifExists(readdir(trash))) ?? []) {
    bytes += await bytesUnder(path.join(trash, n));
    await rm(path.join(trash, n), { recursive: true, force: true });
  }
  await rm(trash, { recursive: true, force: true });
  for (const n of (await ifExists(readdir(layersDir))) ?? []) {
    const pid = tempOwner(n);
    if (pid === undefined || isAlive(`${pid}:`)) continue;
    bytes += await bytesUnder(path.join(layersDir, n));
    await rm(path.join(layersDir, n), { recursive: true, force: true });
  }
  return bytes;
}

export interface LayerPruneResult {
  /** Chain ID hex of each layer removed. */
  removed: string[];
  bytesFreed: number;
}

/** Removes every unpacked layer under `root` that no chain in `inUse` and no mounted root reaches (the caller holds the store's lock). */
export async function pruneLayers(root: string, inUse: Iterable<string>): Promise<LayerPruneResult> {
  const layersDir = path.join(root, 'layers');
  let bytesFreed = await clearLeftovers(layersDir);
  const { layers, used } = await layerUsage(root, inUse, { sizes: false });
  const unused = [...layers.keys()].filter((n) => !used.has(n));
  // Children first: a parent is never gone while a child that names it is still there.
  const depth = new Map<string, number>();
  const depthOf = async (hex: string): Promise<number> => {
    const known = depth.get(hex);
    if (known !== undefined) return known;
    depth.set(hex, 0); // a cycle (a damaged store) ends here
    const parent = await parentOf(layersDir, hex);
    const d = LAYER.test(parent) && layers.has(parent) ? (await depthOf(parent)) + 1 : 0;
    depth.set(hex, d);
    return d;
  };
  for (const n of unused) await depthOf(n);
  unused.sort((a, b) => depth.get(b)! - depth.get(a)!);
  const trash = path.join(layersDir, '.trash');
  if (unused.length > 0) await mkdir(trash, { recursive: true });
  const removed: string[] = [];
  for (const hex of unused) {
    const bytes = await bytesUnder(path.join(layersDir, hex));
    const dest = path.join(trash, `${hex}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(path.join(layersDir, hex), dest);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    await rm(dest, { recursive: true, force: true });
    removed.push(hex);
    bytesFreed += bytes;
  }
  if (unused.length > 0) await rm(trash, { recursive: true, force: true });
  return { removed, bytesFreed };
}
