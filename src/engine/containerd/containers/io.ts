/**
 * Where a task's stdio goes. The container's own process writes to kiln's
 * log driver (./logger.ts), which the shim runs and keeps, so the log grows
 * without any kiln process and is complete once the task is deleted (the
 * shim waits for the driver then). An exec's streams, and an attached `run
 * -i`/`-t`'s (containerd 1.6's log driver gets no stdin), are FIFOs made
 * here, read (and for `-i` written) by small `cat` processes: each blocks in
 * its own open until the shim opens the other end, so nothing in kiln blocks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CriLogWriter } from '../../../runtime/crilog.js';
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
  /** Resolves when what kiln writes to stdin has ended (then Tasks.CloseIO gives the process its end-of-file). */
  stdinEnded: Promise<void>;
  close(): Promise<void>;
}

function copyOut(child: ChildProcess, to: Writable | undefined, log: { writer: CriLogWriter; stream: 'stdout' | 'stderr' } | undefined): Promise<void> {
  const copied = log ? log.writer.pipe(log.stream, child.stdout!, to) : new Promise<void>((resolve) => {
    child.stdout!.on('data', (c: Buffer) => to?.write(c));
    child.stdout!.on('end', resolve);
  });
  return Promise.all([copied, new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => resolve());
  })]).then(() => undefined);
}

/**
 * FIFOs in `dir` for a process whose stdio kiln holds (an exec, or an attached
 * `run -i`/`-t`), with their readers (and the stdin writer) already started.
 * `tty`: one output FIFO (the terminal's). `log`: what is read is also written
 * to that CRI log, as the log driver would have.
 */
export async function execIo(dir: string, io: { stdin?: Readable; stdout?: Writable; stderr?: Writable }, opts: { tty?: boolean; log?: string } = {}): Promise<ExecIo> {
  await mkdir(dir, { recursive: true });
  const names = { stdin: path.join(dir, 'stdin'), stdout: path.join(dir, 'stdout'), stderr: opts.tty ? '' : path.join(dir, 'stderr') };
  const outs = opts.tty ? [names.stdout] : [names.stdout, names.stderr];
  await run('mkfifo', ['-m', '0600', ...outs, ...(io.stdin ? [names.stdin] : [])]);
  const writer = opts.log ? new CriLogWriter(opts.log, { endPartial: true }) : undefined;
  const readers = outs.map((f) => spawn('cat', [f], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const copies = readers.map((r, i) => copyOut(r, i === 0 ? io.stdout : io.stderr, writer ? { writer, stream: i === 0 ? 'stdout' : 'stderr' } : undefined));
  let stdinWriter: ChildProcess | undefined;
  let stdinEnded = new Promise<void>(() => undefined);
  if (io.stdin) {
    const w = spawn('sh', ['-c', 'exec cat > "$0"', names.stdin], { stdio: ['pipe', 'ignore', 'inherit'] });
    stdinWriter = w;
    w.stdin!.on('error', () => undefined);
    stdinEnded = new Promise((resolve) => w.on('close', () => resolve()));
    io.stdin.pipe(w.stdin!);
  }
  return {
    stdin: io.stdin ? names.stdin : '',
    stdout: names.stdout,
    stderr: names.stderr,
    done: Promise.all(copies).then(() => writer?.close()),
    stdinEnded,
    async close() {
      for (const c of [...readers, ...(stdinWriter ? [stdinWriter] : [])]) if (c.exitCode === null) c.kill('SIGKILL');
      if (io.stdin && stdinWriter) io.stdin.unpipe(stdinWriter.stdin!);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
