/**
 * Flattens an image for comparison: its layers are applied in order with kiln's
 * own safe extraction (whiteouts, opaque directories, owners, hardlinks), then
 * the tree is walked into one record per path. Times are left out: two builds
 * never run at the same second.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile, readdir, readlink, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decompress } from '../../layer/compress.js';
import { extractLayer } from '../../layer/extract.js';
import type { LoadedImage } from './image.js';

export interface FsEntry {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';
  /** Permission bits with setuid/setgid/sticky, in octal. */
  mode: string;
  uid: number;
  gid: number;
  /** Bytes, for files and symlinks (directory sizes depend on the filesystem). */
  size?: number;
  sha256?: string;
  target?: string;
  /** For files with more than one name: the first name of the group (sorted), the same on every member. */
  hardlinkGroup?: string;
}

export type FsTree = Map<string, FsEntry>;

export async function applyLayers(image: LoadedImage, root: string): Promise<void> {
  for (const layer of image.layers) {
    const tar = await decompress(createReadStream(layer.file), layer.mediaType);
    await extractLayer(tar, root, { sameOwner: true, allowDevices: process.getuid?.() === 0 });
  }
}

const HASHERS = 8;
const SMALL = 1 << 20;

async function sha256(file: string, size: number): Promise<string> {
  const h = createHash('sha256');
  if (size <= SMALL) return h.update(await readFile(file)).digest('hex');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

function typeOf(st: import('node:fs').Stats): FsEntry['type'] {
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isSocket()) return 'socket';
  return 'file';
}

/** Every path under `root` ("/" first, then sorted) with its metadata and content hash. */
export async function walkTree(root: string): Promise<FsTree> {
  const tree: FsTree = new Map();
  const inodes = new Map<string, string[]>();
  const files: [string, FsEntry][] = [];
  const visit = async (rel: string): Promise<void> => {
    const abs = path.join(root, rel);
    const st = await lstat(abs);
    const type = typeOf(st);
    const e: FsEntry = { type, mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), uid: st.uid, gid: st.gid };
    if (type === 'file') {
      e.size = st.size;
      files.push([abs, e]);
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        inodes.set(key, [...(inodes.get(key) ?? []), rel]);
      }
    } else if (type === 'symlink') {
      e.target = await readlink(abs);
      e.size = Buffer.byteLength(e.target);
    }
    tree.set(rel, e);
    if (type === 'dir') for (const name of (await readdir(abs)).sort()) await visit(rel === '/' ? '/' + name : `${rel}/${name}`);
  };
  await visit('/');
  // Contents are hashed HASHERS at a time: a base image has thousands of small files.
  let next = 0;
  const hasher = async (): Promise<void> => {
    while (next < files.length) {
      const [abs, e] = files[next++]!;
      e.sha256 = await sha256(abs, e.size!);
    }
  };
  await Promise.all(Array.from({ length: HASHERS }, hasher));
  for (const names of inodes.values()) {
    if (names.length < 2) continue;
    const first = [...names].sort()[0]!;
    for (const n of names) tree.get(n)!.hardlinkGroup = first;
  }
  return tree;
}

/** The image's layers applied in a fresh `dir`, walked, then `dir` removed. */
export async function flattenImage(image: LoadedImage, dir: string): Promise<FsTree> {
  try {
    await applyLayers(image, dir);
    return await walkTree(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
