/**
 * `kiln exec` on containerd: Tasks.Exec with a process made from the
 * container's own (capabilities, rlimits, env, user) and the command, user,
 * workdir and env asked for; its streams through FIFOs (./io.ts), `-t` a pty
 * the shim holds (its output on the one FIFO, sized as our terminal). Resolves
 * to the exit code; a command that cannot start rejects with docker's
 * 126/127 error.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { invalidArgument, isKilnError } from '../../../errors.js';
import { readUserDb, resolveUser, type Process } from '../../../runtime/index.js';
import { startError } from '../../../runtime/runc-errors.js';
import type { Attach, ExecSpec } from '../../containers.js';
import type { CtrContext } from './lifecycle.js';
import { execIo } from './io.js';
import { closeStdinOn, followSize } from './pty.js';
import type { CtrRecord } from './records.js';
import { waitTask } from './tasks.js';

const PROCESS_TYPE = 'types.containerd.io/opencontainers/runtime-spec/1/Process';

async function processFor(c: CtrContext, rec: CtrRecord, pid: number, exec: ExecSpec): Promise<Process> {
  const spec = await c.records.runtimeSpec(rec.id);
  const base = spec.process as Process;
  const proc: Process = { ...base, args: exec.args, terminal: false };
  if (exec.user !== undefined) {
    // The running container's own root, as the process sees it.
    const u = resolveUser(exec.user, await readUserDb(`/proc/${pid}/root`));
    proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length > 0 ? { additionalGids: u.additionalGids } : {}) };
  }
  if (exec.workdir !== undefined) proc.cwd = exec.workdir;
  if (exec.env !== undefined) {
    const keys = new Set(exec.env.map((kv) => kv.split('=', 1)[0]));
    proc.env = [...(proc.env ?? []).filter((kv) => !keys.has(kv.split('=', 1)[0])), ...exec.env];
  }
  return proc;
}

export async function execCtr(c: CtrContext, rec: CtrRecord, pid: number, exec: ExecSpec, attach: Attach): Promise<number> {
  if (exec.args.length === 0) throw invalidArgument(`exec in container ${rec.name}: no command given`, { hint: 'kiln exec CONTAINER COMMAND [ARG...]' });
  const tty = !!exec.tty && !exec.detach;
  const proc = { ...(await processFor(c, rec, pid, exec)), terminal: tty };
  const execId = `kiln-exec-${randomBytes(6).toString('hex')}`;
  const io = exec.detach ? undefined : await execIo(path.join(rec.dir, execId), attach, { tty });
  const what = `exec in ${rec.name}`;
  const id = { container_id: rec.id, exec_id: execId };
  try {
    const spec = { type_url: PROCESS_TYPE, value: Buffer.from(JSON.stringify(proc)) };
    await c.conn.unary('tasks', 'Exec', { ...id, stdin: io?.stdin ?? '', stdout: io?.stdout ?? '', stderr: io?.stderr ?? '', terminal: tty, spec }, what);
    try {
      await c.conn.unary('tasks', 'Start', id, what);
    } catch (e) {
      await c.conn.unary('tasks', 'DeleteProcess', id, what).catch(() => undefined);
      throw isKilnError(e) ? startError(e.message.replace(/: unknown$/, ''), rec.id) : e;
    }
    if (!io) return 0;
    closeStdinOn(c.conn, rec.id, execId, io.stdinEnded);
    const stopSize = tty ? followSize(c.conn, rec.id, execId, attach.stdout) : () => undefined;
    const exit = await waitTask(c.conn, rec.id, execId).finally(stopSize);
    await io.done;
    await c.conn.unary('tasks', 'DeleteProcess', id, what).catch(() => undefined);
    return exit.exitCode;
  } finally {
    await io?.close();
  }
}
