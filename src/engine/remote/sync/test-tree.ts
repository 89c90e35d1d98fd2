/**
 * For the sync tests: a directory as path → type, mode, mtime (ms) and what
 * `file` says of a regular file (its bytes or digest), link targets for
 * symlinks — two trees compare equal when a build would see the same files.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

export async function treeOf(dir: string, file: (abs: string, st: Stats) => Promise<string>, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await readdir(path.join(dir, rel))).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    const abs = path.join(dir, r);
    const st = await lstat(abs);
    const meta = `${(st.mode & 0o7777).toString(8)} ${Math.floor(st.mtimeMs)}`;
    if (st.isSymbolicLink()) out[r] = `l ${await readlink(abs)}`;
    else if (st.isDirectory()) {
      out[r] = `d ${meta}`;
      Object.assign(out, await treeOf(dir, file, r));
    } else out[r] = `f ${meta} ${await file(abs, st)}`;
  }
  return out;
}
