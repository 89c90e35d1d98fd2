/** The store's temp files whose writer died: what gc, open and check clear or report. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { tempOwner } from '../util/fsutil.js';
import { isAlive } from '../util/process.js';

/** Temp files (`*.tmp-<pid>-<rand>`) left in the root, blobs, leases or ingest dir (anonymous ingests) by processes that died. */
export async function deadTemps(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of [root, join(root, 'blobs', 'sha256'), join(root, 'leases'), join(root, 'ingest')]) {
    for (const name of await readdir(dir).catch((e) => (isErrno(e, 'ENOENT') ? [] : Promise.reject(e)))) {
      const pid = tempOwner(name);
      if (pid !== undefined && !isAlive(String(pid))) out.push(join(dir, name));
    }
  }
  return out;
}
