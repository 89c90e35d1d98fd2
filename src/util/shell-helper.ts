/**
 * Short commands (mount, umount, getfattr) run for this process by one
 * long-lived `/bin/sh`, instead of one fork of this (large) process each:
 * Node forks on its main thread, which then stalls for the copy of its page
 * tables, several milliseconds a command on a busy machine.
 *
 * The shell reads one request a line (the working directory, then the
 * argv, tab-separated), runs it with stdin from /dev/null, and after it
 * writes `\x01CODE\n` to both its stdout and its stderr; what came before
 * on each is the command's output. Requests run one after the other, in
 * order. The shell ends when this process does (its stdin closes), and is
 * not waited for while idle. A request the line format cannot carry (a tab,
 * a newline, \x01 or an empty argument) runs through execFile, as does
 * every request if the shell cannot start.
 *
 * Results and failures have execFile's shape: `{ stdout, stderr }`, or an
 * error with `code` (the exit code; 'ENOENT' for a command not found),
 * `stdout` and `stderr`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = [
  'set -f',
  "t=$(printf '\\t')",
  'while IFS= read -r l; do',
  '  IFS=$t; set -- $l; unset IFS',
  '  d=$1; shift',
  '  (cd "$d" && exec "$@" </dev/null); r=$?',
  "  printf '\\001%d\\n' $r; printf '\\001%d\\n' $r >&2",
  'done',
].join('\n');

export interface ShellResult {
  stdout: string;
  stderr: string;
}

interface Pending {
  resolve: (r: ShellResult) => void;
  reject: (e: unknown) => void;
  what: string;
  encoding: BufferEncoding;
  /** To run it through execFile instead if the shell cannot start. */
  args: string[];
  cwd: string | undefined;
}

/** Output segments of one stream, split at the end markers. */
class Segments {
  private buf: Buffer = Buffer.alloc(0);
  readonly done: { data: Buffer; code: number }[] = [];

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const at = this.buf.indexOf(1);
      if (at < 0) return;
      const nl = this.buf.indexOf(10, at);
      if (nl < 0) return;
      this.done.push({ data: this.buf.subarray(0, at), code: Number(this.buf.subarray(at + 1, nl).toString()) });
      this.buf = this.buf.subarray(nl + 1);
    }
  }
}

const carried = (arg: string): boolean => arg !== '' && !/[\t\n\x01]/.test(arg);

function direct(args: string[], cwd: string | undefined, encoding: BufferEncoding): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    execFile(args[0]!, args.slice(1), { ...(cwd ? { cwd } : {}), maxBuffer: 256 * 1024 * 1024, encoding }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

export class ShellHelper {
  /** `shell`: the shell to start (a container image may have none: then every command runs through execFile). */
  constructor(private readonly shell = '/bin/sh') {}

  private child?: ChildProcess;
  private broken = false;
  private readonly pending: Pending[] = [];
  private out = new Segments();
  private err = new Segments();

  /** Runs `args` (args[0] looked up in PATH) in `cwd` (default /). */
  run(args: string[], opts: { cwd?: string; encoding?: BufferEncoding } = {}): Promise<ShellResult> {
    const encoding = opts.encoding ?? 'utf8';
    const cwd = opts.cwd ?? '/';
    if (this.broken || ![cwd, ...args].every(carried)) return direct(args, opts.cwd, encoding);
    const child = this.start();
    return new Promise<ShellResult>((resolve, reject) => {
      this.pending.push({ resolve, reject, what: args.join(' '), encoding, args, cwd: opts.cwd });
      this.ref(true);
      child.stdin!.write(`${[cwd, ...args].join('\t')}\n`);
    });
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.shell, ['-c', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.out = new Segments();
    this.err = new Segments();
    child.stdout!.on('data', (c: Buffer) => {
      this.out.push(c);
      this.settle();
    });
    child.stderr!.on('data', (c: Buffer) => {
      this.err.push(c);
      this.settle();
    });
    child.stdin!.on('error', () => undefined); // the shell gone: 'exit' below says so
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const p of this.pending.splice(0)) p.reject(new Error(`${p.what}: the command shell ${why}`));
    };
    child.on('error', () => {
      // No shell (a container image without /bin/sh): the commands already sent, and every later one, go through execFile.
      this.broken = true;
      if (this.child !== child) return;
      this.child = undefined;
      for (const p of this.pending.splice(0)) direct(p.args, p.cwd, p.encoding).then(p.resolve, p.reject);
    });
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    this.ref(false);
    return child;
  }

  private settle(): void {
    while (this.pending.length > 0 && this.out.done.length > 0 && this.err.done.length > 0) {
      const p = this.pending.shift()!;
      const o = this.out.done.shift()!;
      const e = this.err.done.shift()!;
      const r = { stdout: o.data.toString(p.encoding), stderr: e.data.toString(p.encoding) };
      if (o.code === 0) p.resolve(r);
      else {
        const code = o.code === 127 ? 'ENOENT' : o.code;
        p.reject(Object.assign(new Error(`Command failed: ${p.what}\n${r.stderr}`), { code, ...r }));
      }
    }
    if (this.pending.length === 0) this.ref(false);
  }

  /** While commands are pending the shell keeps this process alive; idle, it does not. */
  private ref(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as ({ ref?: () => void; unref?: () => void } | null)[]) {
      if (on) h?.ref?.();
      else h?.unref?.();
    }
  }
}

let shared: ShellHelper | undefined;

/** This process's one command shell. */
export const shellHelper = (): ShellHelper => (shared ??= new ShellHelper());
