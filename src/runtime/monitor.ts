/**
 * The container monitor: runs `runc run` with the container's stdout/stderr
 * piped into the CRI log (and, in the foreground, to the caller), then
 * records the exit in exit.json. `startMonitor` runs it in a detached Node
 * process of its own session (monitor-main.js) that outlives the CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isErrno, isKilnError, KilnError, unavailable } from '../errors.js';
import { CriLogWriter } from './crilog.js';
import { readExitState, writeExitState, type ExitState } from './exit-state.js';
import { containerPaths } from './paths.js';
import { Runc } from './runc.js';
import { RuncStderrFilter } from './runc-stderr.js';
import type { RuntimeSpec } from './runtime-spec.js';
import { startError } from './runc-errors.js';
import { helperCommand } from '../self.js';

export interface MonitorOptions {
  /** Fed to the container's stdin (`-i`); otherwise stdin is /dev/null. */
  stdin?: Readable;
  /** Where the caller sees the output as well (foreground runs). */
  stdout?: Writable;
  stderr?: Writable;
  runcBinary?: string;
  /** Called once runc is spawned (its pipes wired): nothing more is asked of this thread until the container ends. */
  onSpawn?(): void;
}

const MONITOR_MAIN = fileURLToPath(new URL('./monitor-main.js', import.meta.url));

/** Runs the container to its end in this process; resolves to the exit record (also written to exit.json). */
export async function monitorContainer(stateDir: string, id: string, opts: MonitorOptions = {}): Promise<ExitState> {
  const paths = containerPaths(stateDir, id);
  const runc = new Runc({ root: paths.runcRoot, ...(opts.runcBinary ? { binary: opts.runcBinary } : {}) });
  const log = new CriLogWriter(paths.log);
  const startedAt = new Date().toISOString();
  let copying: Promise<void>[] = [];
  let exitCode: number;
  let error: string | undefined;
  const tty = (JSON.parse(await readFile(paths.config, 'utf8')) as RuntimeSpec).process.terminal === true;
  // runc's own failure line lands on stderr, or on the terminal (stdout) for a tty container.
  const filter = new RuncStderrFilter();
  const keepStdinOpen = new PassThrough();
  try {
    // A tty container's stdin is a pipe left open, so the terminal sees no end-of-file.
    const stdin = opts.stdin || tty ? 'pipe' : 'ignore';
    exitCode = await runc.run(id, paths.bundle, [stdin, 'pipe', 'pipe'], {
      tty,
      onSpawn: (child) => {
        if (child.stdin) (opts.stdin ?? keepStdinOpen).pipe(child.stdin);
        const [out, err] = tty ? [child.stdout!.pipe(filter), child.stderr!] : [child.stdout!, child.stderr!.pipe(filter)];
        copying = [log.pipe('stdout', out, opts.stdout), log.pipe('stderr', err, opts.stderr)];
        opts.onSpawn?.();
      },
    });
  } catch (e) {
    if (!(isKilnError(e, 'FAILED_PRECONDITION') || isKilnError(e, 'INTERNAL'))) throw e;
    exitCode = e.exitCode === 1 ? 125 : e.exitCode;
    error = e.message;
  } finally {
    keepStdinOpen.end();
  }
  filter.settle(error !== undefined);
  await Promise.all(copying);
  await log.close();
  const state: ExitState = { id, exitCode, startedAt, finishedAt: new Date().toISOString(), ...(error ? { error } : {}) };
  await writeExitState(stateDir, state);
  return state;
}

/** The exit record's start failure as the error the CLI prints (exit code 125/126/127). */
export function exitError(state: ExitState): KilnError | undefined {
  return state.error === undefined ? undefined : startError(state.error, state.id);
}

/**
 * Foreground `kiln run`: output streams to the caller while it is logged;
 * resolves to the exit code, or rejects with Docker's 125/126/127 error when
 * the process cannot start.
 */
export async function runForeground(stateDir: string, id: string, opts: MonitorOptions = {}): Promise<number> {
  const state = await monitorContainer(stateDir, id, opts);
  const err = exitError(state);
  if (err) throw err;
  return state.exitCode;
}

/**
 * `kiln run -d`: spawns the detached monitor and resolves once the container
 * runs (its pid) — or has already ended; a start failure rejects like runForeground.
 */
export async function startMonitor(
  stateDir: string,
  id: string,
  opts: { runcBinary?: string; timeoutMs?: number; main?: { script: string; args: string[] } } = {},
): Promise<{ monitorPid: number; exit?: ExitState }> {
  const paths = containerPaths(stateDir, id);
  const out = await open(paths.monitorLog, 'a');
  try {
    // `main` replaces monitor-main.js with a caller's entry that calls monitorContainer and then its own cleanup.
    const argv = opts.main ? [opts.main.script, ...opts.main.args] : [MONITOR_MAIN, stateDir, id, ...(opts.runcBinary ? [opts.runcBinary] : [])];
    const cmd = helperCommand(argv[0]!, argv.slice(1));
    const child = spawn(cmd.file, cmd.args, {
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
    });
    child.unref();
    await writeFile(paths.monitorPid, `${child.pid}\n`);
  } finally {
    await out.close();
  }
  const monitorPid = Number(await readFile(paths.monitorPid, 'utf8'));
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  while (Date.now() < deadline) {
    const exit = await readExitState(stateDir, id);
    if (exit !== undefined) {
      const err = exitError(exit);
      if (err) throw err;
      return { monitorPid, exit };
    }
    // Read from runc's own files, not by a `runc state` process per look (each one 10-20 ms of CPU).
    if (runcStarted(paths.runcRoot, id)) return { monitorPid };
    await sleep(10);
  }
  throw unavailable(`container ${id}: the monitor did not start it within ${opts.timeoutMs ?? 15000} ms`, {
    hint: `see ${paths.monitorLog}`,
  });
}

/**
 * Has runc started the container's process? runc keeps `state.json` in
 * ROOT/ID from `create` on, and its `exec.fifo` there until `start` (which
 * `runc run` does at once) lets the process exec.
 */
function runcStarted(runcRoot: string, id: string): boolean {
  return existsSync(join(runcRoot, id, 'state.json')) && !existsSync(join(runcRoot, id, 'exec.fifo'));
}

/** True while the monitor process recorded for the container is alive. */
export async function monitorAlive(stateDir: string, id: string): Promise<boolean> {
  let pid: number;
  try {
    pid = Number(await readFile(containerPaths(stateDir, id).monitorPid, 'utf8'));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if (isErrno(e, 'ESRCH')) return false;
    throw e;
  }
}
