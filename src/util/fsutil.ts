/** Small durable-file helpers: fsync a directory, write a file atomically, map write errors. */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, type BigIntStats, type Stats } from 'node:fs';
import { link, lstat, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno, permissionDenied } from '../errors.js';

/** The result, or undefined when the file is not there (ENOENT); other errors pass. */
export function ifExists<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((e: unknown) => (isErrno(e, 'ENOENT') ? undefined : Promise.reject(e)));
}

/*
 * Small files are read synchronously. A registries.yaml, a PEM, oci-layout, index.json, a cache or container
 * record, an OCI document: a few KiB (index.json ~1 MiB at 5,000 names), read in microseconds by open, fstat,
 * read and close, where an awaited readFile is four trips through the thread pool (one per call), each waiting
 * for a main thread busy elsewhere (12 ms for one read under strace of a push on a loaded machine; `images` on
 * 5,000 images made 10,000 such reads). The bound is the caller's: only files it knows to be small, or, when
 * the file may be big, the stats form with `max` (past it the caller reads asynchronously).
 */

/** A small file's bytes, read synchronously (above), or undefined when it does not exist (ENOENT); other errors pass. */
export function readSmallSync(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** What readSmallWithStatsSync found: the file's stats, and its bytes unless it is bigger than the caller's `max`. */
export interface SmallFile {
  stats: BigIntStats;
  bytes?: Buffer;
}

/**
 * readSmallSync with the stats of the file the bytes came from (one open: they agree); a file of more than
 * `max` bytes is not read (`bytes` undefined), for the caller to read asynchronously. Undefined when the file
 * does not exist (ENOENT); other errors pass.
 */
export function readSmallWithStatsSync(path: string, max = Infinity): SmallFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  try {
    const stats = fstatSync(fd, { bigint: true });
    return Number(stats.size) <= max ? { stats, bytes: readFileSync(fd) } : { stats };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether `p` exists (symlinks followed, or not with `lstat`); a path through
 * a file (ENOTDIR) does not exist either; other errors pass.
 */
export async function pathExists(p: string, how: 'stat' | 'lstat' = 'stat'): Promise<boolean> {
  return (await pathStat(p, how)) !== undefined;
}

/** The path's stats, or undefined when it is not there (ENOENT, ENOTDIR); other errors pass. */
export function pathStat(p: string, how: 'stat' | 'lstat' = 'stat'): Promise<Stats | undefined> {
  return (how === 'stat' ? stat(p) : lstat(p)).catch((e: unknown) => (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR') ? undefined : Promise.reject(e)));
}

/** Removes a file that may already be gone. */
export async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
}

/** Makes a rename/creation inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A temp name next to `path` that says which process made it (`.tmp-<pid>-<rand>`). */
export const tempPath = (path: string): string => `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Parses the pid out of a tempPath name, or undefined. */
export function tempOwner(name: string): number | undefined {
  const m = /\.tmp-(\d+)-[0-9a-f]{8}$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

async function writeTemp(path: string, data: string | Buffer, durable = true): Promise<string> {
  const tmp = tempPath(path);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/**
 * Replaces `path` atomically: readers see the old or the new content, never a
 * mix (also after kill -9). `durable: false` skips the fsyncs, for files that
 * mean nothing after a power loss (a lease, whose owner is then gone too).
 */
export async function writeFileAtomic(path: string, data: string | Buffer, opts: { durable?: boolean } = {}): Promise<void> {
  const durable = opts.durable !== false;
  const tmp = await writeTemp(path, data, durable);
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlinkQuiet(tmp);
    throw e;
  }
  if (durable) await fsyncDir(dirname(path));
}

/**
 * Creates each of `files` that does not exist yet (each atomic, via link), in order: their data
 * is flushed together, then each is linked into place, then one fsync per directory makes the
 * names durable (a journaling filesystem keeps them in order: a later name never without an
 * earlier one). Returns, for each, whether it was created here.
 */
export async function createFilesAtomic(files: { path: string; data: string | Buffer }[]): Promise<boolean[]> {
  const written = await Promise.allSettled(files.map((f) => writeTemp(f.path, f.data)));
  const temps = written.flatMap((w) => (w.status === 'fulfilled' ? [w.value] : []));
  const failed = written.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (failed) {
    await Promise.all(temps.map((t) => unlinkQuiet(t)));
    throw failed.reason;
  }
  const created: boolean[] = [];
  try {
    for (const [i, f] of files.entries()) {
      try {
        await link(temps[i]!, f.path);
        created.push(true);
      } catch (e) {
        if (!isErrno(e, 'EEXIST')) throw e;
        created.push(false);
      }
    }
  } finally {
    await Promise.all(temps.map((t) => unlink(t)));
    for (const dir of new Set(files.map((f) => dirname(f.path)))) await fsyncDir(dir);
  }
  return created;
}

const deniedCodes = ['EACCES', 'EPERM', 'EROFS'];

/** Turns "cannot write" system errors into PERMISSION_DENIED naming the store; rethrows others. */
export function mapWriteError(e: unknown, root: string, path: string): never {
  if (deniedCodes.some((c) => isErrno(e, c))) {
    const code = (e as NodeJS.ErrnoException).code;
    throw permissionDenied(`kiln store ${root} is not writable: cannot write ${path} (${code})`, {
      hint: 'run as a user who may write the store, or pass --root DIR to use another store',
      cause: e,
    });
  }
  throw e;
}

/** Runs a write step, mapping permission errors with mapWriteError. */
export async function writing<T>(root: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    return mapWriteError(e, root, path);
  }
}
