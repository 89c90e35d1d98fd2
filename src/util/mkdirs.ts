/**
 * `mkdir -p` that cannot spin. Node's recursive mkdir loops for ever (at full CPU) where a directory's
 * parent exists but mkdir answers ENOENT, as procfs does (`/proc/x`): it makes the parent again, which
 * exists, and retries the child. Here the missing directories are made one by one, from the nearest
 * ancestor that exists, and the first refusal is thrown as mkdir gave it (code, syscall, path).
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isErrno } from '../errors.js';

export function makeDirsSync(dir: string, mode?: number): void {
  const missing: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    // an ancestor that is a file is left for mkdir to refuse (ENOTDIR, naming the path)
    if (exists(p)) break;
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode });
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e; // made meanwhile by another kiln: fine
    }
  }
}

function exists(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false }) !== undefined;
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return false; // under a file
    throw e;
  }
}
