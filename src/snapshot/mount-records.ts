/**
 * Where a build's snapshots are mounted on this host, and by whom:
 * `DIR/<key>.json` is the owner record (./owner-records.ts, written before
 * anything is mounted), `DIR/<key>/rootfs` the mount point. A kiln killed
 * mid-build leaves its records behind; the next build (or `kiln system
 * prune`) on the same root clears them with `clearStale`, the snapshotter
 * saying what else a dead key held (containerd: its snapshot and lease).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { OwnerRecords, type OwnerRecord } from './owner-records.js';

export class MountRecords<E extends object = object> {
  private readonly owners: OwnerRecords<E>;

  constructor(readonly dir: string) {
    this.owners = new OwnerRecords<E>(dir);
  }

  rootfs(key: string): string {
    return path.join(this.dir, key, 'rootfs');
  }

  /** Records `key` as this process's and makes its mount point. */
  async claim(key: string, extra?: E): Promise<string> {
    await this.owners.claim(key, extra);
    await mkdir(this.rootfs(key), { recursive: true });
    return this.rootfs(key);
  }

  /** Forgets `key` and its directory (its mount point must be unmounted first). */
  async release(key: string): Promise<void> {
    await rm(path.join(this.dir, key), { recursive: true, force: true });
    await this.owners.release(key);
  }

  /** Records whose process is gone. */
  stale(): Promise<OwnerRecord<E>[]> {
    return this.owners.stale();
  }

  /** Clears every dead record: `unmount` its root, `also` (what else it held), then its directory; returns the mount points cleared. */
  async clearStale(unmount: (rootfs: string) => Promise<void>, also?: (rec: OwnerRecord<E>) => Promise<void>): Promise<string[]> {
    const cleared: string[] = [];
    for (const rec of await this.stale()) {
      // Not unmounted (another process clearing it at the same time, or busy): keep the record for later.
      if (!(await unmount(this.rootfs(rec.key)).then(() => true, () => false))) continue;
      await also?.(rec);
      await this.release(rec.key);
      cleared.push(this.rootfs(rec.key));
    }
    return cleared;
  }
}
