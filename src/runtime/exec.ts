/**
 * `kiln exec`: a new process in a running container, based on the
 * container's own process (capabilities, rlimits, env, user) with the given
 * command, user, workdir and extra env. Resolves to its exit code; a command
 * that cannot start rejects with Docker's 126/127 error.
 */
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { invalidArgument } from '../errors.js';
import { containerPaths } from './paths.js';
import { Runc } from './runc.js';
import type { Process, RuntimeSpec } from './runtime-spec.js';
import { readUserDb, resolveUser } from './user.js';

export interface ExecOptions {
  env?: string[];
  user?: string;
  workdir?: string;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  runcBinary?: string;
  /** `-t`: the process gets a terminal (through util-linux `script`); its output all comes on stdout. */
  tty?: boolean;
  /** `-d`: runc starts it and returns; resolves to 0 once it runs. */
  detach?: boolean;
}

export async function execInContainer(stateDir: string, id: string, args: string[], opts: ExecOptions = {}): Promise<number> {
  if (args.length === 0) throw invalidArgument(`exec in container ${id}: no command given`, { hint: 'kiln exec CONTAINER COMMAND [ARG...]' });
  const paths = containerPaths(stateDir, id);
  const spec = JSON.parse(await readFile(paths.config, 'utf8')) as RuntimeSpec;
  const process: Process = { ...spec.process, args, terminal: !!opts.tty && !opts.detach };
  if (opts.user !== undefined) {
    const u = resolveUser(opts.user, await readUserDb(spec.root.path));
    process.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length > 0 ? { additionalGids: u.additionalGids } : {}) };
  }
  if (opts.workdir !== undefined) process.cwd = opts.workdir;
  if (opts.env !== undefined) {
    const keys = new Set(opts.env.map((kv) => kv.split('=', 1)[0]));
    process.env = [...process.env.filter((kv) => !keys.has(kv.split('=', 1)[0])), ...opts.env];
  }
  const runc = new Runc({ root: paths.runcRoot, ...(opts.runcBinary ? { binary: opts.runcBinary } : {}) });
  const copies: Promise<void>[] = [];
  if (opts.detach) return runc.exec(id, process, 'ignore', undefined, { detach: true });
  const stdin = opts.stdin ? 'pipe' : opts.tty ? 'pipe' : 'ignore';
  const code = await runc.exec(id, process, [stdin, 'pipe', 'pipe'], (child) => {
    if (opts.stdin && child.stdin) opts.stdin.pipe(child.stdin);
    for (const [from, to] of [
      [child.stdout, opts.stdout],
      [child.stderr, opts.stderr],
    ] as const) {
      if (!from) continue;
      copies.push(new Promise((resolve, reject) => {
        from.on('data', (c: Buffer) => to?.write(c));
        from.on('end', resolve).on('error', reject);
      }));
    }
  });
  await Promise.all(copies);
  return code;
}
