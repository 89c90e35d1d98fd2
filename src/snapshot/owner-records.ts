/**
 * What a process holds, recorded on disk so that what it leaves behind when
 * it is killed can be found and cleared by the next one: `DIR/<key>.json`
 * names the owner (pid and start time, so a reused pid is not taken for it)
 * plus fields of the caller's own. A record is written (atomically) before
 * the thing it names is made, and removed after that thing is gone; records
 * whose owner still runs are never reported, so concurrent processes on one
 * root leave each other alone.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../errors.js';
import { isAlive, startTime } from '../util/process.js';
import { ifExists, tempPath } from '../util/fsutil.js';

export type OwnerRecord<E extends object = object> = E & {
  key: string;
  pid: number;
  /** The owner's start time (field 22 of /proc/PID/stat). */
  start: string;
};

export class OwnerRecords<E extends object = object> {
  constructor(readonly dir: string) {}

  /** Records `key` as this process's. */
  async claim(key: string, extra?: E): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const rec = { ...extra, key, pid: process.pid, start: startTime(process.pid) ?? '' };
    const file = path.join(this.dir, `${key}.json`);
    const tmp = tempPath(file); // not read as a record: only `*.json` names are
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, file);
  }

  async release(key: string): Promise<void> {
    await rm(path.join(this.dir, `${key}.json`), { force: true });
  }

  /** Records whose owner is gone. */
  async stale(): Promise<OwnerRecord<E>[]> {
    const names = (await ifExists(readdir(this.dir))) ?? [];
    const out: OwnerRecord<E>[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      const key = n.slice(0, -'.json'.length); // the name, never a path the file's text could make up
      let rec: OwnerRecord<E>;
      try {
        rec = { ...(JSON.parse(await readFile(path.join(this.dir, n), 'utf8')) as OwnerRecord<E>), key };
      } catch (e) {
        if (isErrno(e, 'ENOENT')) continue; // released meanwhile
        rec = { key, pid: 0, start: '' } as OwnerRecord<E>; // unreadable: nobody can own it
      }
      if (!(rec.pid > 0 && isAlive(`${rec.pid}:${rec.start}`))) out.push(rec);
    }
    return out;
  }
}
