/**
 * Where a task's stdio goes. The container's own process writes to kiln's
 * log driver (./logger.ts), which the shim runs and keeps, so the log grows
 * without any kiln process and is complete once the task is deleted (the
 * shim waits for the driver then). An exec's streams are FIFOs made here,
 * read (and for `-i` written) by small `cat` processes: each blocks in its
 * own open until the shim opens the other end, so nothing in kiln blocks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CONTAINERD_LOGGER_COMMAND, packaged } from '../../../self.js';

const run = promisify(execFile);
const LOGGER = fileURLToPath(new URL('./logger.js', import.meta.url));

/** The stdout/stderr URI of a container: containerd's binary logging protocol, one query pair → two arguments. */
export function loggerUri(logFile: string): string {
  const key = packaged() ? CONTAINERD_LOGGER_COMMAND : LOGGER;
  return `binary://${process.execPath}?${encodeURIComponent(key)}=${encodeURIComponent(logFile)}`;
}

export interface ExecIo {
  stdin: string;
  stdout: string;
  stderr: string;
  /** Resolves once the readers have copied everything (the shim closed the FIFOs). */
  done: Promise<void>;
  close(): Promise<void>;
}

function copyOut(child: ChildProcess, to: Writable | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => to?.write(c));
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

/** FIFOs in `dir` for one exec, with their readers (and the stdin writer) already started. */
export async function execIo(dir: string, io: { stdin?: Readable; stdout?: Writable; stderr?: Writable }): Promise<ExecIo> {
  await mkdir(dir, { recursive: true });
  const names = { stdin: path.join(dir, 'stdin'), stdout: path.join(dir, 'stdout'), stderr: path.join(dir, 'stderr') };
  await run('mkfifo', ['-m', '0600', names.stdout, names.stderr, ...(io.stdin ? [names.stdin] : [])]);
  const readers = [names.stdout, names.stderr].map((f) => spawn('cat', [f], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const copies = [copyOut(readers[0]!, io.stdout), copyOut(readers[1]!, io.stderr)];
  let writer: ChildProcess | undefined;
  if (io.stdin) {
    writer = spawn('sh', ['-c', 'exec cat > "$0"', names.stdin], { stdio: ['pipe', 'ignore', 'inherit'] });
    writer.stdin!.on('error', () => undefined);
    io.stdin.pipe(writer.stdin!);
  }
  return {
    stdin: io.stdin ? names.stdin : '',
    stdout: names.stdout,
    stderr: names.stderr,
    done: Promise.all(copies).then(() => undefined),
    async close() {
      for (const c of [...readers, ...(writer ? [writer] : [])]) if (c.exitCode === null) c.kill('SIGKILL');
      if (io.stdin && writer) io.stdin.unpipe(writer.stdin!);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
