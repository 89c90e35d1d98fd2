/** Starts ./reaper.ts for a `-d --rm` container: detached, so it outlives the CLI. */
import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helperCommand } from '../../../self.js';
import type { CtrRecord } from './records.js';

const REAPER = fileURLToPath(new URL('./reaper.js', import.meta.url));

export async function startReaper(at: { address: string; namespace: string; snapshotter: string; workRoot: string }, rec: CtrRecord): Promise<void> {
  const out = await open(path.join(rec.dir, 'reaper.log'), 'a');
  try {
    const cmd = helperCommand(REAPER, [at.address, at.namespace, at.snapshotter, at.workRoot, rec.id]);
    spawn(cmd.file, cmd.args, { detached: true, stdio: ['ignore', out.fd, out.fd] }).unref();
  } finally {
    await out.close();
  }
}
