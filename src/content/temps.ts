/** The store's temp files whose writer died: what gc, open and check clear or report. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { tempOwner } from '../util/fsutil.js';
import { isAlive } from '../util/process.js';

/** Temp files (`*.tmp-<pid>-<rand>`) left in the root, blobs, leases or ingest dir (anonymous ingests) by processes that died. */
export async function deadTemps(root: string): Promise<string[]> {
  const dirs = [root, join(root, 'blobs', 'sha256'), join(root, 'leases'), join(root, 'ingest')];
  // Listed synchronously, as openStore's other checks (layout.ts): every command that opens the store for writing waits for this.
  const listed = dirs.map((dir) => {
    try {
      return readdirSync(dir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
  });
  return dirs.flatMap((dir, i) =>
    listed[i]!.flatMap((name) => {
      const pid = tempOwner(name);
      return pid !== undefined && !isAlive(String(pid)) ? [join(dir, name)] : [];
    }),
  );
}
