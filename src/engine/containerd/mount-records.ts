/**
 * Where a build's containerd snapshots are mounted on this host, and by whom:
 * `DIR/<key>.json` names the process (pid and start time), the snapshot key
 * and the lease, written before anything is prepared; `DIR/<key>/rootfs` is
 * the mount point. A kiln killed mid-build leaves its records behind, and the
 * next build on the same --root clears them (`clearStale`): it unmounts the
 * root, removes the active snapshot and deletes the dead build's lease, so
 * containerd's GC frees what that build had made, at once rather than when
 * the lease would have expired.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../../errors.js';

export interface MountRecord {
  key: string;
  pid: number;
  /** The process's start time (field 22 of /proc/PID/stat), so a reused pid is not taken for the owner. */
  start: string;
  lease?: string;
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const alive = (r: MountRecord) => startTime(r.pid) === r.start;

export class MountRecords {
  constructor(readonly dir: string) {}

  rootfs(key: string): string {
    return path.join(this.dir, key, 'rootfs');
  }

  /** Records `key` as this process's and makes its mount point. */
  async claim(key: string, lease: string | undefined): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const rec: MountRecord = { key, pid: process.pid, start: startTime(process.pid) ?? '', ...(lease ? { lease } : {}) };
    const file = path.join(this.dir, `${key}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify(rec));
    await rename(`${file}.tmp`, file);
    await mkdir(this.rootfs(key), { recursive: true });
    return this.rootfs(key);
  }

  /** Forgets `key` (its mount point must be unmounted first). */
  async release(key: string): Promise<void> {
    await rm(path.join(this.dir, key), { recursive: true, force: true });
    await rm(path.join(this.dir, `${key}.json`), { force: true });
  }

  /** Records whose process is gone. */
  async stale(): Promise<MountRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out: MountRecord[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      let rec: MountRecord;
      try {
        rec = JSON.parse(await readFile(path.join(this.dir, n), 'utf8')) as MountRecord;
      } catch (e) {
        if (isErrno(e, 'ENOENT')) continue; // released meanwhile
        rec = { key: n.slice(0, -'.json'.length), pid: 0, start: '' }; // torn: its writer died before the rename
      }
      if (!alive(rec)) out.push(rec);
    }
    return out;
  }
}
