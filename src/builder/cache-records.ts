/**
 * The build cache as a whole (what `kiln system df` counts and `kiln builder
 * prune` removes): the step records of ./cache.ts under
 * `<root>/buildcache/steps`, each naming its layer blob and (since records
 * carry it) the chain ID of the snapshot the step left, and the cache mounts
 * of `RUN --mount=type=cache` under `<root>/buildcache/mounts`.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../errors.js';
import { ifExists } from '../util/fsutil.js';
import type { CacheRecord } from './cache.js';

export interface StoredCacheRecord {
  /** The record's file name: the hex of its step key. */
  id: string;
  record: CacheRecord;
  /** When the record was written (its file's mtime). */
  modified: Date;
}

const stepsDir = (root: string) => path.join(root, 'buildcache', 'steps');
export const cacheMountsDir = (root: string): string => path.join(root, 'buildcache', 'mounts');

/** Every readable step record (a torn or foreign file is skipped: it is a miss for builds too). */
export async function listCacheRecords(root: string): Promise<StoredCacheRecord[]> {
  const out: StoredCacheRecord[] = [];
  for (const id of (await ifExists(readdir(stepsDir(root)))) ?? []) {
    if (!/^[a-f0-9]{64}$/.test(id)) continue;
    const file = path.join(stepsDir(root), id);
    try {
      const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      out.push({ id, record: JSON.parse(text) as CacheRecord, modified: st.mtime });
    } catch (e) {
      if (!(isErrno(e, 'ENOENT') || e instanceof SyntaxError)) throw e;
    }
  }
  return out;
}

/** Removes step records by id (a record is one file: removing it is atomic). */
export async function removeCacheRecords(root: string, ids: string[]): Promise<void> {
  for (const id of ids) await rm(path.join(stepsDir(root), id), { force: true });
}

/** The cache mounts' directory names. */
export async function listCacheMounts(root: string): Promise<string[]> {
  return (await ifExists(readdir(cacheMountsDir(root)))) ?? [];
}
