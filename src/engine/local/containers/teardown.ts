/**
 * Taking a container's runtime pieces away: after it exits (die event,
 * network released, `--rm`), before a fresh start, and on `rm` (runc state,
 * bundle, network, writable root, anonymous volumes, the record).
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Runc, containerPaths, readExitState, removeContainer as removeBundle, runcRoot } from '../../../runtime/index.js';
import { isKilnError } from '../../../errors.js';
import { appendEvent } from '../events.js';
import { removeAnonymousVolumes } from '../../volumes/calls.js';
import { VolumeStore } from '../../volumes/store.js';
import { rootfsKey, type ContainerContext } from './context.js';
import { networkDown } from './network.js';
import { monitorRunning, runningPid } from './state.js';
import type { ContainerRecord } from './store.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Waits (up to `ms`) for the container's monitor process to end. */
export async function waitMonitorGone(ctx: ContainerContext, id: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (await monitorRunning(ctx.stateDir, id)) {
    if (Date.now() > end) return false;
    await sleep(25);
  }
  return true;
}

/** Kills the container (all its processes) and forgets runc's state; fine when nothing runs. */
export async function killAndDelete(ctx: ContainerContext, id: string): Promise<void> {
  const runc = new Runc({ root: runcRoot(ctx.stateDir) });
  if ((await runningPid(ctx.stateDir, id)) !== undefined) {
    await runc.kill(id, 'SIGKILL', { all: true }).catch((e: unknown) => {
      if (!isKilnError(e, 'NOT_FOUND') && !isKilnError(e, 'FAILED_PRECONDITION')) throw e;
    });
  }
  // Let a live monitor record the exit and run its own cleanup first.
  await waitMonitorGone(ctx, id, 10_000);
  // `runc run` removes its own state when the container ends: no runc call needed then.
  if (!existsSync(path.join(runcRoot(ctx.stateDir), id))) return;
  await runc.delete(id, { force: true }).catch((e: unknown) => {
    if (!isKilnError(e, 'NOT_FOUND')) throw e;
  });
}

/** Everything a start made, away: runc state, network, bundle and writable root. Keeps the last exit in the record. */
export async function releaseRuntime(ctx: ContainerContext, rec: ContainerRecord): Promise<ContainerRecord> {
  await killAndDelete(ctx, rec.id);
  const exit = await readExitState(ctx.stateDir, rec.id).catch(() => undefined);
  const updated: ContainerRecord = exit ? { ...rec, lastExit: { exitCode: exit.exitCode, finishedAt: exit.finishedAt, ...(exit.error ? { error: exit.error } : {}) } } : rec;
  // The process is gone: network, bundle and root go side by side (each settles before a failure is thrown).
  const bundle = async () => {
    if (existsSync(path.join(runcRoot(ctx.stateDir), rec.id))) await removeBundle(ctx.stateDir, rec.id, { force: true });
    else await rm(containerPaths(ctx.stateDir, rec.id).bundle, { recursive: true, force: true });
  };
  const results = await Promise.allSettled([networkDown(ctx, rec), bundle(), ctx.snapshots.remove(rootfsKey(rec.id))]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return updated;
}

/** `rm`: the runtime pieces, anonymous volumes (always with --rm or -v), then the record. */
export async function destroy(ctx: ContainerContext, rec: ContainerRecord, opts: { volumes?: boolean } = {}): Promise<void> {
  await releaseRuntime(ctx, rec);
  if (opts.volumes || rec.spec.autoRemove) await removeAnonymousVolumes(new VolumeStore(ctx.root), rec);
  await ctx.store.delete(rec.id);
  await appendEvent(ctx.root, { type: 'container', action: 'destroy', id: rec.id, attributes: { name: rec.name, image: rec.image } });
}

/**
 * After the container's process ended (called by the monitor, or by the CLI
 * for a foreground run): the die event, the network released, `--rm` done.
 */
export async function afterExit(ctx: ContainerContext, id: string): Promise<void> {
  const rec = await ctx.store.get(id);
  if (rec === undefined) return;
  const exit = await readExitState(ctx.stateDir, id);
  await appendEvent(ctx.root, {
    type: 'container',
    action: 'die',
    id,
    attributes: { name: rec.name, image: rec.image, exitCode: String(exit?.exitCode ?? 'unknown') },
  });
  // --rm: destroy releases the network with the rest of the runtime pieces.
  if (rec.spec.autoRemove) await destroy(ctx, rec, { volumes: true });
  else await networkDown(ctx, rec);
}
