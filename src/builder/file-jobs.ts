/**
 * COPY's regular files, copied on the thread pool with bounded concurrency:
 * copy the bytes (copy_file_range/reflink where the kernel has them), then
 * owner, mode (after the owner: chown clears set-id bits) and times, as the
 * synchronous path did. `add` waits while FILE_JOBS are in flight; `settled`
 * waits for the job writing one path; `drain` for all, and throws the first
 * failure (after every job has ended, so nothing writes after it returns).
 */
import { chmod, copyFile, lchown, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';

/** Jobs in flight: enough to keep libuv's 4 threads busy across the 4 calls of each file. */
export const FILE_JOBS = 16;

export class FileJobs {
  private readonly running = new Map<string, Promise<void>>();
  private failure: unknown;
  private failed = false;

  /**
   * Starts copying `abs` to `target`; resolves once there is room for the next one. `owner` undefined: the new file
   * is already owned right; `mode` undefined: copyFile gave it the source's mode (it sets it, umask aside) and no chown can clear set-id bits.
   */
  async add(target: string, abs: string, owner: { uid: number; gid: number } | undefined, mode: number | undefined, st: Stats): Promise<void> {
    this.check();
    while (this.running.size >= FILE_JOBS) await Promise.race(this.running.values());
    const job = (async () => {
      await copyFile(abs, target);
      if (owner !== undefined) await lchown(target, owner.uid, owner.gid);
      if (mode !== undefined) await chmod(target, mode);
      await utimes(target, st.atime, st.mtime);
    })().then(
      () => void this.running.delete(target),
      (e: unknown) => {
        this.running.delete(target);
        if (!this.failed) [this.failed, this.failure] = [true, e];
      },
    );
    this.running.set(target, job);
  }

  /** Waits for the job writing `target`, if one is. */
  async settled(target: string): Promise<void> {
    const job = this.running.get(target);
    if (job !== undefined) await job;
    this.check();
  }

  /** Waits for every job; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
    this.check();
  }

  private check(): void {
    if (this.failed) throw this.failure;
  }
}
