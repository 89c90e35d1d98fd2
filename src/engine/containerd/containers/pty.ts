/**
 * What an attached session with kiln holding the stdio needs from the Tasks
 * service: the terminal's size given to the task's pty (now and on every
 * resize of ours), and the end of our stdin passed on (Tasks.CloseIO: the
 * shim keeps its own end of the stdin FIFO open until told).
 */
import type { Writable } from 'node:stream';
import type { ContainerdConnection } from '../grpc.js';

/** Keeps the pty of process `execId` ('' for the task's own) at the size of `out` when it is a terminal; returns the stop. */
export function followSize(conn: ContainerdConnection, id: string, execId: string, out: Writable | undefined): () => void {
  const tty = out as (Writable & { isTTY?: boolean; columns?: number; rows?: number }) | undefined;
  if (!tty?.isTTY) return () => undefined;
  const resize = () => {
    if (tty.columns && tty.rows) void conn.unary('tasks', 'ResizePty', { container_id: id, exec_id: execId, width: tty.columns, height: tty.rows }, 'resize').catch(() => undefined);
  };
  resize();
  tty.on('resize', resize);
  return () => tty.off('resize', resize);
}

/** Once `ended` resolves, the process reads end-of-file. */
export function closeStdinOn(conn: ContainerdConnection, id: string, execId: string, ended: Promise<void>): void {
  void ended.then(() => conn.unary('tasks', 'CloseIO', { container_id: id, exec_id: execId, stdin: true }, 'close stdin')).catch(() => undefined);
}
