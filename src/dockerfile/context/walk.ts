/**
 * Walks a build context and yields what a build sends: every file,
 * directory, symlink and fifo not excluded by .dockerignore, parents before
 * children, names in byte order. Symlinks are reported with their target and
 * never followed, so nothing outside the context is read. The walk is
 * synchronous (one lstat per entry, no await between entries: a 5,000-file
 * context is walked in tens of milliseconds) and each entry carries its
 * Stats, so a caller never stats a file twice.
 */
import fs from 'node:fs';
import type { Stats } from 'node:fs';
import type { IgnoreMatcher } from './ignore.js';

export type ContextEntryType = 'file' | 'dir' | 'symlink' | 'fifo';

export interface ContextEntry {
  /** Slash-separated path relative to the context root, e.g. `src/main.go`. */
  path: string;
  type: ContextEntryType;
  /** Permission bits and setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  /** Bytes for files, 0 otherwise. */
  size: number;
  /** Symlinks: the target as stored (may point anywhere; never followed). */
  linkTarget?: string;
  uid: number;
  gid: number;
  mtimeMs: number;
  /** Absolute path on disk, for reading file contents. */
  absolutePath: string;
  /** The entry's lstat. */
  stats: Stats;
}

export interface WalkOptions {
  ignore?: IgnoreMatcher;
}

/**
 * Iterator over the context; the root itself is not yielded. One generator with a stack of the
 * directories being read, not one generator per level: each entry costs one resume, not one per
 * level above it (in a fresh process, before V8 optimises anything, that was ~10 ms of a
 * 5,000-entry context).
 */
export function* walkContext(root: string, opts: WalkOptions = {}): Generator<ContextEntry> {
  const base = fs.realpathSync(root);
  const ignore = opts.ignore;
  const stack: Frame[] = [frame(base, '', [])];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.names.length) {
      stack.pop();
      continue;
    }
    const name = top.names[top.next++]!;
    const childRel = top.rel === '' ? name : `${top.rel}/${name}`;
    const abs = top.prefix + name;
    const st = fs.lstatSync(abs);
    const type = typeOf(st);
    if (!type) continue; // sockets and devices cannot go into a build context
    const excluded = ignore?.excludes(childRel) ?? false;
    const entry = toEntry(childRel, abs, st, type);
    if (!excluded) {
      // Directories held back because they were excluded go out first, so a
      // re-included file (`!dir/keep`) still has its parents.
      for (const h of top.held) {
        if (h.sent) continue;
        h.sent = true;
        yield h.entry;
      }
      yield entry;
    }
    if (type === 'dir' && (!excluded || ignore?.hasExceptions)) {
      stack.push(frame(abs, childRel, excluded ? [...top.held, { entry, sent: false }] : top.held));
    }
  }
}

/** An excluded ancestor directory, sent only if something under it is re-included. */
interface Held {
  entry: ContextEntry;
  sent: boolean;
}

/** A directory being walked: its names in order and the next one to look at. */
interface Frame {
  rel: string;
  /** The directory's absolute path with a trailing slash (normalized already: no path.join per entry). */
  prefix: string;
  names: string[];
  next: number;
  held: Held[];
}

function frame(dir: string, rel: string, held: Held[]): Frame {
  return { rel, prefix: dir.endsWith('/') ? dir : `${dir}/`, names: sortBytewise(fs.readdirSync(dir)), next: 0, held };
}

function toEntry(rel: string, abs: string, st: Stats, type: ContextEntryType): ContextEntry {
  return {
    path: rel,
    type,
    mode: st.mode & 0o7777,
    size: type === 'file' ? st.size : 0,
    linkTarget: type === 'symlink' ? fs.readlinkSync(abs) : undefined,
    uid: st.uid,
    gid: st.gid,
    mtimeMs: st.mtimeMs,
    absolutePath: abs,
    stats: st,
  };
}

function typeOf(st: Stats): ContextEntryType | undefined {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'fifo';
  return undefined;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Names in the byte order of their UTF-8: the same as JavaScript's code-unit order unless a name
 * holds a surrogate or a character from U+E000 up, so only such a directory pays for encoding
 * every name at each comparison.
 */
function sortBytewise(names: string[]): string[] {
  return names.sort(names.some((n) => /[\uD800-\uFFFF]/.test(n)) ? byteOrder : codeUnitOrder);
}
