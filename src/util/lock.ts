/**
 * A cross-process lock file. Why not a package: Node has no flock(2), and
 * `proper-lockfile` (the maintained choice) detects stale locks by mtime, so
 * every holder must keep a timer refreshing it and a paused or busy process
 * (a long fsync, a debugger) loses its lock after the timeout. The store is a
 * local directory, so we can do better with O_EXCL: the lock file holds the
 * owner's pid and start time, and a lock is stale exactly when that process
 * is gone (pid reuse is caught by the start time). Breaking a stale lock is
 * itself serialized by a short-lived `.break` lock, so two waiters can never
 * both delete and both take it.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno, unavailable } from '../errors.js';
import { ifExists, unlinkQuiet } from './fsutil.js';
import { isAlive, selfToken } from './process.js';

export type Release = () => Promise<void>;

/** Creates the lock file if absent; returns its release, or undefined when it exists. */
async function tryCreate(path: string): Promise<Release | undefined> {
  let fh;
  try {
    fh = await open(path, 'wx', 0o644);
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return undefined;
    throw e;
  }
  try {
    await fh.writeFile(`${selfToken()}\n`);
  } finally {
    await fh.close();
  }
  return releaseOnce(() => unlink(path));
}

/** A release that removes the lock file on its first call only (an async function: a throw is a rejection). */
function releaseOnce(remove: () => Promise<void> | void): Release {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await remove();
  };
}

/**
 * tryCreate with synchronous calls (open, write, close; unlink on release): a few microseconds each on the
 * caller's thread, where each await of the thread pool costs a wake-up of both sides under load.
 */
function tryCreateSync(path: string): Release | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (e) {
    if (isErrno(e, 'EEXIST')) return undefined;
    throw e;
  }
  try {
    writeSync(fd, `${selfToken()}\n`);
  } finally {
    closeSync(fd);
  }
  // unlinkSync runs as the release is called (an async function's body runs until its first await).
  return releaseOnce(() => unlinkSync(path));
}

async function readOwner(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Removes `path` if its owner is dead. Returns the live owner's token, or undefined if the lock is gone now. */
async function breakIfStale(path: string): Promise<string | undefined> {
  const owner = await readOwner(path);
  if (owner === undefined) return undefined;
  if (owner === '') {
    // Created but not written yet: give the creator a moment, then treat as stale.
    const st = await ifExists(stat(path));
    if (st === undefined) return undefined;
    if (Date.now() - st.mtimeMs < 2000) return 'starting';
  } else if (isAlive(owner)) {
    return owner;
  }
  const breaker = `${path}.break`;
  const release = await tryCreate(breaker);
  if (release === undefined) {
    const st = await ifExists(stat(breaker));
    // A breaker that died mid-break leaves this behind; it only lives for microseconds otherwise.
    if (st !== undefined && Date.now() - st.mtimeMs > 5000) await unlinkQuiet(breaker);
    return 'breaking';
  }
  try {
    if ((await readOwner(path)) === owner) await unlinkQuiet(path);
  } finally {
    await release();
  }
  return undefined;
}

/** Takes the lock now or reports who holds it (`<pid>:<start>`). */
export async function tryLock(path: string): Promise<Release | { heldBy: string }> {
  for (;;) {
    const release = await tryCreate(path);
    if (release) return release;
    const holder = await breakIfStale(path);
    if (holder !== undefined) return { heldBy: holder };
  }
}

export interface LockOptions {
  /** Give up after this long (default 60 s) with UNAVAILABLE. */
  timeoutMs?: number;
  /** What is locked, for the error message. */
  what?: string;
  /**
   * Take a free lock and release it with synchronous calls (a lock on a latency path, seldom held by
   * another: a remote build's context slot); a held one is waited for as usual.
   */
  sync?: boolean;
}

/** Waits for the lock (polling with backoff) and returns its release. */
export async function lock(path: string, opts: LockOptions = {}): Promise<Release> {
  const now = opts.sync ? tryCreateSync(path) : undefined;
  if (now) return now;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let delay = 2;
  for (;;) {
    const got = await tryLock(path);
    if (typeof got === 'function') return got;
    if (Date.now() > deadline) {
      throw unavailable(`${opts.what ?? path} is locked by process ${got.heldBy.split(':')[0]} (${path})`, {
        hint: 'wait for the other kiln command to finish; if no kiln is running, remove the lock file',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 10) + Math.random() * 2;
  }
}

/** Runs `fn` while holding the lock. */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts?: LockOptions): Promise<T> {
  const release = await lock(path, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}
