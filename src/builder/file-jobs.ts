/**
 * COPY's regular files, copied on the thread pool with bounded concurrency:
 * copy the bytes (copy_file_range/reflink where the kernel has them), then
 * owner, mode (after the owner: chown clears set-id bits) and times, as the
 * synchronous path did. Each job is a chain of fs callbacks (no promise per
 * call: thousands of small files make promises, and the hooks a lease's
 * AsyncLocalStorage puts on them, a visible cost). `add` returns a promise
 * only while FILE_JOBS are in flight; `busy`/`settled` wait for the job writing
 * one path; `drain` for all, and throws the first failure (after every job
 * has ended, so nothing writes after it returns).
 */
import { chmod, constants, copyFile, lchown, utimes, type Stats } from 'node:fs';

/** Jobs in flight: enough to keep libuv's 4 threads busy across the 4 calls of each file. */
export const FILE_JOBS = 16;

export class FileJobs {
  /** target → callbacks waiting for its job. */
  private readonly running = new Map<string, (() => void)[]>();
  private roomWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private failure: unknown;
  private failed = false;

  /**
   * Starts copying `abs` to `target`; the promise (when there is one) resolves once there is room for the next.
   * `owner` undefined: the new file is already owned right; `mode` undefined: copyFile gave it the source's
   * mode (it sets it, umask aside) and no chown can clear set-id bits. The target must not exist (the copy
   * removed what was there): it is created exclusively, so copyFile neither stats nor truncates it.
   */
  add(target: string, abs: string, owner: { uid: number; gid: number } | undefined, mode: number | undefined, st: Stats): Promise<void> | undefined {
    this.check();
    this.running.set(target, []);
    const finish = (e: NodeJS.ErrnoException | null): void => {
      if (e && !this.failed) [this.failed, this.failure] = [true, e];
      const waiting = this.running.get(target) ?? [];
      this.running.delete(target);
      for (const w of waiting) w();
      this.roomWaiters.shift()?.();
      if (this.running.size === 0) for (const w of this.drainWaiters.splice(0)) w();
    };
    const times = (): void => utimes(target, st.atime, st.mtime, finish);
    const setMode = (): void => (mode === undefined ? times() : chmod(target, mode, (e) => (e ? finish(e) : times())));
    copyFile(abs, target, constants.COPYFILE_EXCL, (e) => {
      if (e) return finish(e);
      if (owner === undefined) return setMode();
      lchown(target, owner.uid, owner.gid, (e2) => (e2 ? finish(e2) : setMode()));
    });
    if (this.running.size < FILE_JOBS) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** A job is writing `target`. */
  busy(target: string): boolean {
    return this.running.has(target);
  }

  /** Waits for the job writing `target`, if one is. */
  async settled(target: string): Promise<void> {
    const waiting = this.running.get(target);
    if (waiting !== undefined) await new Promise<void>((resolve) => waiting.push(resolve));
    this.check();
  }

  /** Waits for every job; throws the first failure. */
  async drain(): Promise<void> {
    if (this.running.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.check();
  }

  private check(): void {
    if (this.failed) throw this.failure;
  }
}
