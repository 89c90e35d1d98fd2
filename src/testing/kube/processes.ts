/**
 * Cluster processes: started detached in the node's network namespace (so
 * `scripts/cluster.sh up` can exit and leave them running), their output in
 * DIR/logs/NAME.log, and ended by pid later, from any process, once their
 * command line shows they are this cluster's (pids get reused).
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { netnsPath } from './netns.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Started {
  pid: number;
  logFile: string;
  /** Set once the process has exited (only known to the process that started it). */
  exited: () => string | undefined;
}

export function startInNetns(netns: string, dir: string, name: string, argv: string[], env?: NodeJS.ProcessEnv): Started {
  const logFile = path.join(dir, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn('nsenter', [`--net=${netnsPath(netns)}`, '--', ...argv], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: env ?? process.env,
  });
  closeSync(fd);
  let exit: string | undefined;
  child.on('exit', (code, signal) => {
    exit = signal ? `killed by ${signal}` : `exited with ${code}`;
  });
  child.on('error', (e) => {
    exit = e.message;
  });
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start ${name}: ${argv[0]}`);
  return { pid: child.pid, logFile, exited: () => exit };
}

/** True while pid runs (not a zombie) with `mark` in its command line. */
export async function isOurs(pid: number, mark: string): Promise<boolean> {
  try {
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    return cmdline.includes(mark) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function endProcess(pid: number, mark: string, graceMs = 5_000): Promise<void> {
  if (!(await isOurs(pid, mark))) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // gone meanwhile
    }
  };
  signal('SIGTERM');
  const killAt = Date.now() + graceMs;
  let killed = false;
  while (await isOurs(pid, mark)) {
    if (!killed && Date.now() > killAt) {
      signal('SIGKILL');
      killed = true;
    }
    if (Date.now() > killAt + 10_000) throw new Error(`process ${pid} did not end after SIGKILL`);
    await sleep(50);
  }
}

/** The last lines of a log, for error messages. */
export async function logTail(logFile: string, lines = 25): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}
