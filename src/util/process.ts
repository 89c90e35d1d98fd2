/** Is a process (identified by pid and, on Linux, its start time) still running? */
import { readFileSync } from 'node:fs';
import { isErrno } from '../errors.js';

/** The kernel's start time of a process (clock ticks since boot), or undefined off Linux. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ESRCH')) return undefined;
    throw e;
  }
}

/** An owner token written into lock and lease files: `<pid>:<starttime>`. */
export const selfToken = (): string => `${process.pid}:${startTime(process.pid) ?? ''}`;

/** True while the process that wrote `token` runs; a reused pid (other start time) counts as dead. */
export function isAlive(token: string): boolean {
  const [pidText, start] = token.trim().split(':');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (isErrno(e, 'ESRCH')) return false;
    if (!isErrno(e, 'EPERM')) throw e;
  }
  if (start) {
    const now = startTime(pid);
    if (now !== undefined && now !== start) return false;
  }
  return true;
}
