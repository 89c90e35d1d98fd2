/**
 * Creates the small files of an upload (a `file_batch`, already verified)
 * off the agent's main thread: two worker threads each create a batch's
 * files where they go, with their mode and mtime, and answer each file's
 * stat signature (for the stat memo). File creation is the cost of a first
 * sync (an ext4 create is a fraction of a millisecond of kernel time, often
 * more under load); on the main thread it held up the stream, so the next
 * batch was received only once the last one was on disk. Now the main thread
 * receives and verifies while the workers write, and two batches are created
 * at once. The workers are made on the first batch and kept (unref'd) for the
 * agent's life.
 */
import { Worker } from 'node:worker_threads';

export interface FileWrite {
  /** Absolute path; created, never replaced (its parent exists, the path does not). */
  abs: string;
  data: Uint8Array;
  mode: number;
  mtimeMs: number;
}

/** What the stat memo keys on, taken after the file's last change. */
export interface WrittenStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

// A CommonJS script (eval'd: no file to ship beside the packaged executable).
const WORKER = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.on('message', ({ id, files }) => {
  const stats = [];
  try {
    for (const f of files) {
      const fd = fs.openSync(f.abs, 'wx', 0o600);
      try {
        fs.writeFileSync(fd, f.data);
        fs.fchmodSync(fd, f.mode);
        fs.futimesSync(fd, f.mtimeMs / 1000, f.mtimeMs / 1000);
        const st = fs.fstatSync(fd);
        stats.push({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
      } finally {
        fs.closeSync(fd);
      }
    }
    parentPort.postMessage({ id, stats });
  } catch (e) {
    parentPort.postMessage({ id, error: { message: String(e && e.message), code: e && e.code } });
  }
});
`;

const WORKERS = 2;

interface Pending {
  resolve(stats: WrittenStat[]): void;
  reject(e: Error): void;
}

class WriterPool {
  private readonly workers: (Worker | undefined)[] = [];
  /** Requests not answered yet, by worker: a worker is ref'd only while it has some. */
  private readonly busy: number[] = [];
  private readonly pending = new Map<number, Pending & { worker: number }>();
  private nextId = 0;
  private turn = 0;

  private worker(i: number): Worker {
    let w = this.workers[i];
    if (!w) {
      const made = new Worker(WORKER, { eval: true });
      made.unref();
      made.on('message', (m: { id: number; stats?: WrittenStat[]; error?: { message: string; code?: string } }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.settled(m.id);
        if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        else p.resolve(m.stats!);
      });
      made.on('error', (e) => this.failAll(i, e));
      made.on('exit', () => this.failAll(i, new Error('a file writer thread stopped')));
      this.workers[i] = w = made;
    }
    return w;
  }

  private settled(id: number): void {
    const i = this.pending.get(id)!.worker;
    this.pending.delete(id);
    if (--this.busy[i]! === 0) this.workers[i]?.unref();
  }

  /** A worker that failed or stopped: its requests fail, the next one gets a new worker. */
  private failAll(i: number, e: Error): void {
    this.workers[i] = undefined;
    for (const [id, p] of [...this.pending]) {
      if (p.worker !== i) continue;
      this.settled(id);
      p.reject(e);
    }
  }

  write(files: FileWrite[]): Promise<WrittenStat[]> {
    const id = this.nextId++;
    const i = this.turn++ % WORKERS;
    return new Promise((resolve, reject) => {
      const w = this.worker(i);
      this.pending.set(id, { resolve, reject, worker: i });
      if ((this.busy[i] = (this.busy[i] ?? 0) + 1) === 1) w.ref();
      w.postMessage({ id, files });
    });
  }
}

let pool: WriterPool | undefined;

/** Creates `files` (in order, in one worker thread); their stats in the same order. */
export function writeFiles(files: FileWrite[]): Promise<WrittenStat[]> {
  pool ??= new WriterPool();
  return pool.write(files);
}
