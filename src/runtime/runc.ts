/**
 * A thin driver for the runc CLI (`--root` under kiln's state dir). Commands
 * that finish return data; `run` and `exec` stream the process's stdio and
 * resolve to its exit code (128+signal when killed by a signal), or reject
 * with a startError carrying Docker's 125/126/127.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { internal, invalidArgument, isErrno, unavailable } from '../errors.js';
import { commandError, runcMessages, startError } from './runc-errors.js';
import type { Process } from './runtime-spec.js';

export const DEFAULT_RUNC = '/usr/sbin/runc';
const SCRIPT = '/usr/bin/script';

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
}

export interface RuncOptions {
  /** runc's state directory (`--root`). */
  root: string;
  binary?: string;
}

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Exit code as a shell reports it: the code, or 128+signal number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
}

export class Runc {
  readonly root: string;
  readonly binary: string;

  constructor(opts: RuncOptions) {
    this.root = opts.root;
    this.binary = opts.binary ?? DEFAULT_RUNC;
  }

  /** Spawns `runc --root R [--log L --log-format json] ARGS`. */
  spawn(args: string[], stdio: StdioOptions, logFile?: string, opts: { tty?: boolean } = {}): ChildProcess {
    const argv = [this.binary, '--root', this.root, ...(logFile ? ['--log', logFile, '--log-format', 'json'] : []), ...args];
    if (!opts.tty) return spawn(argv[0]!, argv.slice(1), { stdio });
    // A terminal process needs runc to own a terminal: util-linux `script` gives it a pty and
    // copies it to our pipes (stdout carries both streams, with \r\n, as with docker -t).
    // The pty is made raw before runc starts (runc does it too, but output can come first and get \r\r\n, and input is echoed twice).
    return spawn(SCRIPT, ['-qfec', `stty raw -echo 2>/dev/null; exec ${argv.map(shellQuote).join(' ')}`, '/dev/null'], { stdio });
  }

  private exec1(args: string[]): Promise<Finished> {
    return new Promise((resolve, reject) => {
      const child = this.spawn(args, ['ignore', 'pipe', 'pipe']);
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (e) => reject(spawnError(this.binary, e)));
      child.on('close', (code, signal) => resolve({ code: exitCodeOf(code, signal), stdout, stderr }));
    });
  }

  private async ok(verb: string, id: string | undefined, args: string[]): Promise<string> {
    const r = await this.exec1(args);
    if (r.code !== 0) throw commandError(verb, id, r.stderr);
    return r.stdout;
  }

  async state(id: string): Promise<RuncState> {
    return JSON.parse(await this.ok('state', id, ['state', id])) as RuncState;
  }

  async list(): Promise<RuncState[]> {
    const out = await this.ok('list', undefined, ['list', '--format', 'json']);
    return (JSON.parse(out) as RuncState[] | null) ?? [];
  }

  /** `runc kill`: signal name (SIGTERM, TERM, KILL) or number; `all` signals every process. */
  async kill(id: string, signal: string | number = 'SIGTERM', opts: { all?: boolean } = {}): Promise<void> {
    await this.ok('kill', id, ['kill', ...(opts.all ? ['--all'] : []), id, String(signal)]);
  }

  /**
   * `runc ps ID [PS_ARGS]`: the container's processes as ps prints them
   * (default `-ef`), split into titles and rows; the last column keeps the
   * rest of its line (the command and its arguments).
   */
  async ps(id: string, psArgs: string[] = []): Promise<{ titles: string[]; processes: string[][] }> {
    const r = await this.exec1(['ps', id, ...psArgs]);
    if (r.code !== 0) {
      // runc wraps ps's complaint (`error: unknown user-defined format specifier "x"`) in its own log line.
      const said = /error: ([^\n\\]*(?:\\"[^\n\\]*)*)/.exec(r.stderr.replace(/^.*?msg="exit status \d+: /s, ''))?.[1]?.replace(/\\"/g, '"');
      if (psArgs.length > 0 && said) throw invalidArgument(`ps ${psArgs.join(' ')}: ${said}`, { hint: 'give options ps understands, e.g. kiln top CONTAINER -o pid,user,args' });
      throw commandError('ps', id, r.stderr);
    }
    const out = r.stdout;
    const [head = '', ...lines] = out.split('\n').filter((l) => l.trim() !== '');
    const titles = head.trim().split(/\s+/);
    const processes = lines.map((l) => {
      const fields = l.trim().split(/\s+/);
      return [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    });
    return { titles, processes };
  }

  /** `runc pause` / `runc resume`: freeze and thaw every process of the container (its cgroup's freezer). */
  async pause(id: string): Promise<void> {
    await this.ok('pause', id, ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.ok('resume', id, ['resume', id]);
  }

  /** `runc events --stats ID`: one reading of the container's cgroup, as runc prints it (JSON). */
  async stats(id: string): Promise<string> {
    return this.ok('events', id, ['events', '--stats', id]);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.ok('delete', id, ['delete', ...(opts.force ? ['--force'] : []), id]);
  }

  /** `runc create`: the container waits for `start`; its stdio is the given fds (or /dev/null). */
  async create(id: string, bundle: string, opts: { pidFile?: string } = {}): Promise<void> {
    const logFile = join(bundle, 'runc.log');
    // runc hands its stdio to the container: a pipe here would stay open as long as the container runs.
    const child = this.spawn(['create', '--bundle', bundle, ...(opts.pidFile ? ['--pid-file', opts.pidFile] : []), id], 'ignore', logFile);
    const r = await finished(child, this.binary);
    if (r.code !== 0) throw (await failure('create', id, logFile, '')) ?? internal(`runc create ${id} failed with exit code ${r.code}`, { hint: `see ${logFile}` });
  }

  async start(id: string): Promise<void> {
    await this.ok('start', id, ['start', id]);
  }

  /**
   * `runc run` in the foreground: resolves to the container's exit code once it
   * ends (runc removes its own state then). Failing to start rejects with a
   * startError (125/126/127).
   */
  async run(
    id: string,
    bundle: string,
    stdio: StdioOptions,
    opts: { tty?: boolean; onSpawn?: (child: ChildProcess) => void } = {},
  ): Promise<number> {
    const logFile = join(bundle, 'runc.log');
    await rm(logFile, { force: true });
    const child = this.spawn(['run', '--bundle', bundle, id], stdio, logFile, { tty: !!opts.tty });
    const onSpawn = opts.onSpawn;
    onSpawn?.(child);
    const r = await finished(child, this.binary);
    if (r.code !== 0) {
      const err = await failure('run', id, logFile, '');
      if (err !== undefined) throw err;
    }
    return r.code;
  }

  /** `runc exec` of a process spec in a running container; resolves to its exit code. */
  async exec(id: string, process: Process, stdio: StdioOptions, onSpawn?: (child: ChildProcess) => void, opts: { detach?: boolean } = {}): Promise<number> {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-exec-'));
    try {
      const spec = join(dir, 'process.json');
      const logFile = join(dir, 'runc.log');
      await writeFile(spec, JSON.stringify(process));
      const child = this.spawn(['exec', ...(opts.detach ? ['--detach'] : []), '--process', spec, id], stdio, logFile, { tty: !!process.terminal });
      onSpawn?.(child);
      const r = await finished(child, this.binary);
      if (r.code !== 0) {
        const err = await failure('exec', id, logFile, '');
        if (err !== undefined) throw err;
      }
      return r.code;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function spawnError(binary: string, e: unknown) {
  if (isErrno(e, 'ENOENT')) return unavailable(`runc not found at ${binary}`, { hint: 'install runc (apt-get install runc)', cause: e });
  return internal(`cannot run ${binary}: ${String(e)}`, { cause: e });
}

/** Waits for runc to end; `collect` reads its stderr (only when that is runc's own, not the container's). */
function finished(child: ChildProcess, binary: string, collect = false): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    if (collect) child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(spawnError(binary, e)));
    child.on('close', (code, signal) => resolve({ code: exitCodeOf(code, signal), stderr }));
  });
}

/** Reads runc's JSON log after a failure: an error there means runc, not the container, failed. */
async function failure(verb: 'run' | 'exec' | 'create', id: string, logFile: string, stderr: string) {
  let log = '';
  try {
    log = await readFile(logFile, 'utf8');
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  const msgs = runcMessages(log).filter((m) => !/^(signal: |exit status )/.test(m));
  const last = msgs.at(-1);
  if (last !== undefined && /unable to start container process|exec failed|starting container process/.test(last)) return startError(last, id);
  if (last !== undefined) return commandError(verb, id, log);
  if (verb === 'create') return commandError(verb, id, stderr);
  return undefined;
}
