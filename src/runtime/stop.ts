/** `kiln stop`: the stop signal, then SIGKILL after a grace period, as Docker does. */
import { isKilnError, unavailable } from '../errors.js';
import { readExitState, waitExit, type ExitState } from './exit-state.js';
import { containerPaths } from './paths.js';
import { Runc } from './runc.js';

export interface StopOptions {
  /** Grace period before SIGKILL (Docker's default 10 s). */
  timeoutMs?: number;
  /** The image's StopSignal or `--signal` (default SIGTERM). */
  signal?: string;
  runcBinary?: string;
}

async function signalIfRunning(runc: Runc, id: string, signal: string): Promise<void> {
  try {
    await runc.kill(id, signal, { all: signal === 'SIGKILL' || signal === 'KILL' });
  } catch (e) {
    // Gone between our check and the signal: the exit record tells the rest.
    if (!(isKilnError(e, 'NOT_FOUND') || isKilnError(e, 'FAILED_PRECONDITION'))) throw e;
  }
}

/** Resolves to the exit record once the container has stopped. */
export async function stopContainer(stateDir: string, id: string, opts: StopOptions = {}): Promise<ExitState> {
  const done = await readExitState(stateDir, id);
  if (done !== undefined) return done;
  const runc = new Runc({ root: containerPaths(stateDir, id).runcRoot, ...(opts.runcBinary ? { binary: opts.runcBinary } : {}) });
  await signalIfRunning(runc, id, opts.signal ?? 'SIGTERM');
  const graceful = await waitExit(stateDir, id, { timeoutMs: opts.timeoutMs ?? 10000 });
  if (graceful !== undefined) return graceful;
  await signalIfRunning(runc, id, 'SIGKILL');
  const killed = await waitExit(stateDir, id, { timeoutMs: 10000 });
  if (killed === undefined) {
    throw unavailable(`container ${id} did not stop after SIGKILL: no exit record in ${containerPaths(stateDir, id).exit}`, {
      hint: `check whether its monitor still runs (${containerPaths(stateDir, id).monitorLog})`,
    });
  }
  return killed;
}
