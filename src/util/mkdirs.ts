/**
 * `mkdir -p` that cannot spin. Node's recursive mkdir loops for ever (at full CPU) where a directory's
 * parent exists but mkdir answers ENOENT, as procfs does (`/proc/x`): it makes the parent again, which
 * exists, and retries the child. Here the missing directories are made one by one, from the nearest
 * ancestor that exists, and the first refusal is thrown as mkdir gave it (code, syscall, path). What is
 * in the way is named as Go's os.MkdirAll names it (what containerd and docker users see): a file (or a
 * link to one) at the directory or above it is `ENOTDIR` with that file's path; a dangling link where a
 * directory is to be made is mkdir's own `EEXIST`.
 */
import { lstatSync, mkdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { isErrno } from '../errors.js';

export function makeDirsSync(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    const st = statOf(p);
    if (st?.isDirectory()) break;
    if (st) throw notADirectory(p);
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode });
    } catch (e) {
      // made meanwhile by another kiln: fine; a dangling link (or a file made meanwhile) is in the way
      if (!isErrno(e, 'EEXIST') || !statOf(p)?.isDirectory()) throw e;
    }
  }
}

/** What is in the way of the directory `dir`, from the top down: the first path that exists and is not a directory. */
export interface NotADirectory {
  path: string;
  /** A symbolic link's target, when `path` is one. */
  target?: string;
  /** What the path (or the link's target) is: `file`, `socket`…; `missing` for a dangling link. */
  kind: string;
}

export function notADirectoryAt(dir: string): NotADirectory | undefined {
  const parts = resolve(dir).split(sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const p = sep + parts.slice(0, i).join(sep);
    let l: Stats | undefined;
    try {
      l = lstatSync(p, { throwIfNoEntry: false });
    } catch {
      return undefined; // not reachable (EACCES): nothing to say about what is there
    }
    if (!l) return undefined; // missing from here down: nothing in the way
    const target = l.isSymbolicLink() ? readlinkSync(p) : undefined;
    const st = target === undefined ? l : statOf(p);
    if (st?.isDirectory()) continue;
    return { path: p, ...(target !== undefined ? { target } : {}), kind: st ? kindOf(st) : 'missing' };
  }
  return undefined;
}

function kindOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isSocket()) return 'socket';
  if (st.isFIFO()) return 'named pipe';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'special file';
}

/** stat that says undefined for a path that is not there (missing, or under a file). */
function statOf(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return undefined; // under a file: the walk up finds it
    throw e;
  }
}

function notADirectory(p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR', errno: -20, syscall: 'mkdir', path: p });
}
