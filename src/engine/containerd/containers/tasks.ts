/**
 * A container's task (its running process, held by the runc v2 shim) through
 * containerd's Tasks service: state as docker shows it, wait, kill, delete.
 * A task that has exited is kept (status STOPPED, its exit status held by
 * the shim) until the next start or `rm`, so `ps -a`, `wait` and `inspect`
 * read the exit code from containerd itself.
 */
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidArgument, isKilnError } from '../../../errors.js';
import type { ContainerState } from '../../containers.js';
import type { ContainerdConnection, Message } from '../grpc.js';
import type { CtrRecord } from './records.js';

export interface TaskState {
  state: ContainerState;
  pid?: number;
  exitCode?: number;
  finishedAt?: string;
}

const time = (ts: Message | null | undefined): string | undefined => {
  const s = Number(ts?.seconds ?? 0);
  // containerd's zero time (year 1) for a process that has not exited.
  return s > 0 ? new Date(s * 1000 + Math.floor(Number(ts?.nanos ?? 0) / 1e6)).toISOString() : undefined;
};

/** The task's process, or undefined when the container has none. */
export async function getTask(conn: ContainerdConnection, id: string, execId = ''): Promise<Message | undefined> {
  try {
    return (await conn.unary('tasks', 'Get', { container_id: id, exec_id: execId }, `task ${id.slice(0, 12)}`)).process as Message;
  } catch (e) {
    if (isKilnError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

/** Whether process `pid` of this host still runs (the kiln making a container). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function stateOf(rec: CtrRecord, task: Message | undefined): TaskState {
  if (rec.creating) return { state: alive(rec.creating.pid) ? 'created' : 'dead' };
  if (!task) {
    if (rec.lastExit) return { state: 'exited', exitCode: rec.lastExit.exitCode, finishedAt: rec.lastExit.finishedAt };
    return { state: rec.startedAt ? 'unknown' : 'created' };
  }
  switch (task.status) {
    case 'RUNNING':
    case 'PAUSED':
    case 'PAUSING':
      return { state: 'running', pid: Number(task.pid) };
    case 'STOPPED': {
      const finishedAt = time(task.exited_at as Message);
      return { state: 'exited', exitCode: Number(task.exit_status), ...(finishedAt ? { finishedAt } : {}) };
    }
    case 'CREATED':
      return { state: 'created' };
    default:
      return { state: 'unknown' };
  }
}

/** Every task of the namespace by container id (one call for `ps`). */
export async function listTasks(conn: ContainerdConnection): Promise<Map<string, Message>> {
  const res = await conn.unary('tasks', 'List', { filter: '' }, 'tasks');
  return new Map(((res.tasks ?? []) as Message[]).map((t) => [t.id as string, t]));
}

/** Resolves to the exit status once the process ends. */
export async function waitTask(conn: ContainerdConnection, id: string, execId = ''): Promise<{ exitCode: number; finishedAt: string }> {
  const res = await conn.unary('tasks', 'Wait', { container_id: id, exec_id: execId }, `task ${id.slice(0, 12)}`);
  return { exitCode: Number(res.exit_status), finishedAt: time(res.exited_at as Message) ?? new Date().toISOString() };
}

/** `SIGTERM`, `TERM`, `15` → 15. */
export function signalNumber(signal: string): number {
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = (signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`) as keyof typeof constants.signals;
  const n = constants.signals[name];
  if (n === undefined) throw invalidArgument(`invalid signal "${signal}"`, { hint: 'use a name such as SIGTERM or a number' });
  return n;
}

export async function killTask(conn: ContainerdConnection, id: string, signal: string, all = false): Promise<void> {
  await conn.unary('tasks', 'Kill', { container_id: id, exec_id: '', signal: signalNumber(signal), all }, `task ${id.slice(0, 12)}`);
}

/** Sends `signal`, waits up to `timeoutMs` for the exit, then kills every process of the container. */
export async function stopTask(conn: ContainerdConnection, id: string, signal: string, timeoutMs: number): Promise<void> {
  const exited = waitTask(conn, id);
  exited.catch(() => undefined);
  await killTask(conn, id, signal).catch((e: unknown) => {
    if (!isKilnError(e, 'NOT_FOUND') && !isKilnError(e, 'FAILED_PRECONDITION')) throw e;
  });
  const timedOut = await Promise.race([exited.then(() => false), sleep(timeoutMs).then(() => true)]);
  if (!timedOut) return;
  await killTask(conn, id, 'SIGKILL', true).catch((e: unknown) => {
    if (!isKilnError(e, 'NOT_FOUND') && !isKilnError(e, 'FAILED_PRECONDITION')) throw e;
  });
  await exited;
}

/** Deletes the task (killing it first if it still runs); resolves to its exit, if it had one. */
export async function deleteTask(conn: ContainerdConnection, id: string): Promise<{ exitCode: number; finishedAt: string } | undefined> {
  const task = await getTask(conn, id);
  if (!task) return undefined;
  if (task.status !== 'STOPPED' && task.status !== 'CREATED') await stopTask(conn, id, 'SIGKILL', 10_000);
  try {
    const res = await conn.unary('tasks', 'Delete', { container_id: id }, `task ${id.slice(0, 12)}`);
    return task.status === 'CREATED' ? undefined : { exitCode: Number(res.exit_status), finishedAt: time(res.exited_at as Message) ?? new Date().toISOString() };
  } catch (e) {
    if (isKilnError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}
