/**
 * What a build holds in the builder's state dir, each recorded with its owner
 * (the build's process, ../snapshot/owner-records.ts) in `<state>/owners/`
 * before it is made and forgotten once it is gone: the runc containers of RUN
 * steps (`<id>.json`) and the build's scratch dir (`scratch-<name>.json`:
 * secrets, heredocs, ADD downloads). A build killed mid-RUN leaves its
 * container running; the next build (or `kiln system prune`) on the root
 * kills and deletes it with the runc root the builder uses, and removes the
 * scratch dir. What live builds hold is left alone.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { OwnerRecords } from '../snapshot/owner-records.js';
import { containerPaths, runcRoot, Runc } from '../runtime/index.js';

/** The builder's state dir under a root: runc's root and the bundles of RUN steps, scratch dirs, owner records. */
export const builderStateDir = (root: string): string => path.join(root, 'build');

const records = (stateDir: string) => new OwnerRecords(path.join(stateDir, 'owners'));
const SCRATCH = 'scratch-';
export const scratchDir = (stateDir: string, name: string): string => path.join(stateDir, 'scratch', name);

export const claimStepContainer = (stateDir: string, id: string): Promise<void> => records(stateDir).claim(id);
export const releaseStepContainer = (stateDir: string, id: string): Promise<void> => records(stateDir).release(id);
export const claimScratch = (stateDir: string, name: string): Promise<void> => records(stateDir).claim(SCRATCH + name);

/** Removes the scratch dir `name`, then its record. */
export async function dropScratch(stateDir: string, name: string): Promise<void> {
  await rm(scratchDir(stateDir, name), { recursive: true, force: true });
  await records(stateDir).release(SCRATCH + name);
}

export interface StaleOwned {
  kind: 'container' | 'scratch';
  /** The container id, or the scratch dir's path. */
  name: string;
  pid: number;
}

/** What builds whose process is gone still hold. */
export async function staleOwned(stateDir: string): Promise<StaleOwned[]> {
  return (await records(stateDir).stale()).map((r) =>
    r.key.startsWith(SCRATCH)
      ? { kind: 'scratch' as const, name: scratchDir(stateDir, r.key.slice(SCRATCH.length)), pid: r.pid }
      : { kind: 'container' as const, name: r.key, pid: r.pid },
  );
}

/** Clears what `staleOwned` names: containers killed and deleted (runc kill KILL, delete --force) with their bundles, scratch dirs removed. */
export async function clearStaleOwned(stateDir: string): Promise<StaleOwned[]> {
  const runc = new Runc({ root: runcRoot(stateDir) });
  const cleared: StaleOwned[] = [];
  for (const o of await staleOwned(stateDir)) {
    if (o.kind === 'scratch') {
      await dropScratch(stateDir, path.basename(o.name));
    } else {
      // Either may fail when the container is already stopped or was never created.
      await runc.kill(o.name, 'KILL', { all: true }).catch(() => undefined);
      await runc.delete(o.name, { force: true }).catch(() => undefined);
      if (existsSync(path.join(runcRoot(stateDir), o.name))) continue; // still there: keep the record, so check goes on naming it
      await rm(containerPaths(stateDir, o.name).bundle, { recursive: true, force: true });
      await releaseStepContainer(stateDir, o.name);
    }
    cleared.push(o);
  }
  return cleared;
}
