/**
 * Helpers shared by layer extraction and diffing: entry path normalization,
 * whiteout names, tar headers from fs.Stats, and resolution of a path inside
 * a root directory as if the root were `/` (symlinks never lead outside).
 */
import { lstatSync, mkdirSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Header } from 'tar-stream';
import { invalidArgument } from '../errors.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Names starting with this (`.wh..wh.plnk`…) are AUFS metadata, not whiteouts of a file. */
export const WHITEOUT_META_PREFIX = '.wh..wh.';

/**
 * In a layer, a name `.wh.X` removes X from the directory holding it; when X
 * is empty, `.` or `..` it would remove that directory or its parent (outside
 * the layer's root at the top). Returns why `name` is such a whiteout, or undefined.
 */
export function hostileWhiteout(name: string): string | undefined {
  if (!name.startsWith(WHITEOUT_PREFIX)) return undefined;
  const hidden = name.slice(WHITEOUT_PREFIX.length);
  if (hidden === '') return 'a whiteout with no name would remove the directory that holds it';
  if (hidden === '.' || hidden === '..') return `a whiteout of "${hidden}" would remove a directory outside the one that holds it`;
  return undefined;
}

/** A tar header with PAX records (tar-stream supports them; its types omit the field). */
export type PaxHeaders = Partial<Header> & { name: string; pax?: Record<string, string> | null };

/**
 * A tar entry name as clean relative path components, like Docker's
 * `filepath.Clean`: leading `/` and `./` dropped, `a/../b` → `b`.
 * Returns [] for the root itself. Throws when `..` would climb out of the root.
 */
export function entryComponents(name: string, what = `tar entry "${name}"`): string[] {
  if (name.includes('\0')) throw invalidArgument(`${what}: NUL byte in the name`, { hint: 'the layer is malformed or hostile; do not use it' });
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) {
        throw invalidArgument(`${what}: path escapes the root directory through ".."`, { hint: 'the layer is malformed or hostile; do not use it' });
      }
      out.pop();
    } else out.push(c);
  }
  return out;
}

/** The normalized relative path of a tar entry name (`./usr/bin/` → `usr/bin`). */
export const normalizeEntryPath = (name: string): string => entryComponents(name).join('/');

const MAX_SYMLINKS = 255;

/**
 * Resolves `components` inside `root` the way a chroot would: each symlink met
 * is followed with `root` as `/`, and `..` stops at the root, so the result is
 * always inside `root`. The last component is not followed when `followLast`
 * is false (it is the thing an entry creates or replaces). Missing directories
 * are created (mode 0755) when `mkdirs` is set; otherwise the rest of the path
 * is appended unresolved. With `mkdirs`, every component must be a directory.
 * Synchronous: a few lstat calls served from the page cache cost less than
 * thread-pool round trips.
 */
export function resolveInRoot(
  root: string,
  components: readonly string[],
  opts: { followLast?: boolean; mkdirs?: boolean } = {},
): string {
  const done: string[] = [];
  const todo = [...components];
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      done.pop();
      continue;
    }
    const isLast = todo.length === 0;
    const host = path.join(root, ...done, c);
    if (isLast && !opts.followLast) {
      done.push(c);
      break;
    }
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st === undefined) {
      if (!opts.mkdirs) return path.join(root, ...done, c, ...todo);
      mkdirSync(host, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw invalidArgument(`too many levels of symbolic links resolving "${components.join('/')}" in ${root}`, { hint: 'the tree has a symlink loop' });
      const target = readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/'));
      continue;
    } else if ((!isLast || opts.mkdirs) && !st.isDirectory()) {
      throw invalidArgument(`"${[...done, c].join('/')}" in ${root} is not a directory (resolving "${components.join('/')}")`, {
        hint: 'the layer puts a file under a path that is not a directory',
      });
    }
    done.push(c);
  }
  return path.join(root, ...done);
}

/** The tar type of a file, or undefined for what layers do not carry (sockets). */
export function tarType(st: Stats): Header['type'] | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isFIFO()) return 'fifo';
  return undefined;
}

/**
 * A mode for tar-stream's pack: it replaces a mode of 0 by 0644/0755, so a bit
 * above the 12 permission bits (which it masks away when encoding) keeps 0 as 0.
 */
export const packMode = (perm: number): number => (perm & 0o7777) | 0o1000000;

const major = (dev: number): number => ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff);
const minor = (dev: number): number => (dev & 0xff) | ((dev >> 12) & ~0xff);

/** Linux device numbers of an rdev: [major, minor]. */
export function deviceNumbers(rdev: number): [number, number] {
  return [major(rdev) >>> 0, minor(rdev) >>> 0];
}

/**
 * A tar header for `name` from its stats: type, mode, uid/gid, size, mtime
 * (clamped to `clampMtime` seconds when given), device numbers, `linkname`.
 * Directories get a trailing `/`; uname/gname stay empty so bytes do not depend on the host.
 */
export function headerFromStats(name: string, st: Stats, opts: { linkname?: string; clampMtime?: number } = {}): PaxHeaders {
  const type = tarType(st);
  if (type === undefined) throw invalidArgument(`${name}: sockets cannot be stored in a layer`);
  let mtimeSec = Math.floor(st.mtimeMs / 1000);
  if (opts.clampMtime !== undefined && mtimeSec > opts.clampMtime) mtimeSec = opts.clampMtime;
  const h: PaxHeaders = {
    name: type === 'directory' && !name.endsWith('/') ? `${name}/` : name,
    type,
    mode: packMode(st.mode),
    uid: st.uid,
    gid: st.gid,
    size: type === 'file' ? st.size : 0,
    mtime: new Date(mtimeSec * 1000),
  };
  if (type === 'symlink') h.linkname = opts.linkname;
  if (type === 'character-device' || type === 'block-device') [h.devmajor, h.devminor] = deviceNumbers(st.rdev);
  return h;
}
