/**
 * A container's live state, read from files only (no runc process per
 * container, so `ps` stays fast): the monitor's exit record, then runc's
 * state.json with the init pid checked against its start time, then the
 * monitor's pid. A dead monitor with a dead container shows as exited with
 * an unknown code — the truth, not "running".
 */
import path from 'node:path';
import { isErrno } from '../../../errors.js';
import { readSmallSync } from '../../../util/fsutil.js';
import { isAlive } from '../../../util/process.js';
import { containerPaths, runcRoot } from '../../../runtime/paths.js';
import type { ExitState } from '../../../runtime/exit-state.js';
import type { ContainerState } from '../../containers.js';
import type { ContainerRecord } from './store.js';

export interface LiveState {
  state: ContainerState;
  pid?: number;
  exitCode?: number;
  finishedAt?: string;
  error?: string;
  /** The monitor process still runs (it will record the exit and clean up). */
  monitor: boolean;
}

/** A small state file, read synchronously (util/fsutil's small files: `ps -a` reads a few per container); undefined when not there. */
async function readText(p: string): Promise<string | undefined> {
  try {
    return readSmallSync(p)?.toString('utf8');
  } catch (e) {
    if (isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** True while the process runs and is not a zombie (a reparented monitor may wait a while to be reaped). */
async function processRunning(pid: number): Promise<boolean> {
  const stat = await readText(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** True while the process of the monitor recorded in the bundle runs. */
export async function monitorRunning(stateDir: string, id: string): Promise<boolean> {
  const text = await readText(containerPaths(stateDir, id).monitorPid);
  const pid = Number(text?.trim());
  // The monitor asking about itself (its own cleanup) does not wait for itself.
  return text !== undefined && pid !== process.pid && Number.isInteger(pid) && pid > 0 && (await processRunning(pid));
}

/** The container's init pid from runc's own state file, when that process still runs. */
export async function runningPid(stateDir: string, id: string): Promise<number | undefined> {
  const text = await readText(path.join(runcRoot(stateDir), id, 'state.json'));
  if (text === undefined) return undefined;
  const st = JSON.parse(text) as { init_process_pid?: number; init_process_start?: number | string };
  if (!st.init_process_pid) return undefined;
  const alive = isAlive(`${st.init_process_pid}:${st.init_process_start ?? ''}`) && (await processRunning(st.init_process_pid));
  return alive ? st.init_process_pid : undefined;
}

export async function liveState(stateDir: string, rec: ContainerRecord): Promise<LiveState> {
  if (rec.startedAt === undefined) return { state: 'created', monitor: false };
  const exitText = await readText(containerPaths(stateDir, rec.id).exit);
  const exit = exitText === undefined ? undefined : (JSON.parse(exitText) as ExitState);
  const monitor = await monitorRunning(stateDir, rec.id);
  if (exit !== undefined) {
    return { state: 'exited', exitCode: exit.exitCode, finishedAt: exit.finishedAt, monitor, ...(exit.error ? { error: exit.error } : {}) };
  }
  const pid = await runningPid(stateDir, rec.id);
  if (pid !== undefined) return { state: 'running', pid, monitor };
  if (monitor) return { state: 'running', monitor };
  if (rec.lastExit && (await readText(containerPaths(stateDir, rec.id).config)) === undefined) {
    return { state: 'exited', exitCode: rec.lastExit.exitCode, finishedAt: rec.lastExit.finishedAt, monitor };
  }
  // Started, no exit record, no process, no monitor: the monitor or the machine died.
  return { state: 'exited', monitor, error: 'the container monitor died before recording the exit code' };
}
