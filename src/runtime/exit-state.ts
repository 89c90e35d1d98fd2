/** The exit record the monitor leaves in `<bundle>/exit.json` (written atomically), and waiting for it. */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno } from '../errors.js';
import { containerPaths } from './paths.js';

export interface ExitState {
  id: string;
  /** The process's code, 128+signal when a signal ended it, or 125/126/127 when it never started. */
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  /** Set when the process could not be started (Docker's message, e.g. `exec: "foo": executable file not found in $PATH`). */
  error?: string;
}

export async function writeExitState(stateDir: string, state: ExitState): Promise<void> {
  const { exit } = containerPaths(stateDir, state.id);
  const tmp = `${exit}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state) + '\n');
  await rename(tmp, exit);
}

export async function readExitState(stateDir: string, id: string): Promise<ExitState | undefined> {
  try {
    return JSON.parse(await readFile(containerPaths(stateDir, id).exit, 'utf8')) as ExitState;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Resolves with the exit record once it exists, or undefined after `timeoutMs` (default: wait forever). */
export async function waitExit(stateDir: string, id: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExitState | undefined> {
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  for (;;) {
    const s = await readExitState(stateDir, id);
    if (s !== undefined) return s;
    if (Date.now() >= deadline) return undefined;
    opts.signal?.throwIfAborted();
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
  }
}
