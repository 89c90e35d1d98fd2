/**
 * `kiln logs`: reads a container's CRI log file (see crilog.ts) with Docker's
 * options — follow, since, until, tail, timestamps — and splits it back into
 * stdout and stderr. Reads in chunks: never the whole file in memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidArgument, isErrno } from '../errors.js';
import type { LogStream } from './crilog.js';
import { readExitState } from './exit-state.js';
import { containerPaths } from './paths.js';

export interface LogEntry {
  /** RFC 3339 with nanoseconds, as written. */
  time: string;
  stream: LogStream;
  /** A P record: the line continues in the next record of the same stream. */
  partial: boolean;
  content: Buffer;
}

export interface ReadLogsOptions {
  follow?: boolean;
  /** Only records at or after / before this time (a Date, RFC 3339, or Unix seconds like Docker's `--since 1700000000`). */
  since?: Date | string;
  until?: Date | string;
  /** Only the last N lines (before following). */
  tail?: number;
  /** Start at this byte offset of the file (what a foreground run shows: only its own output). */
  from?: number;
  /** With follow: when to stop after the end of the file is reached (default: never). */
  isDone?: () => Promise<boolean>;
  pollMs?: number;
}

const CHUNK = 64 * 1024;

function toMillis(t: Date | string, what: string): number {
  if (t instanceof Date) return t.getTime();
  const n = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : Date.parse(t);
  if (Number.isNaN(n)) throw invalidArgument(`invalid ${what} time "${t}"`, { hint: 'use RFC 3339 (2026-11-23T10:00:00Z) or Unix seconds' });
  return n;
}

export function parseRecord(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s3 < 0 && !(s2 > 0 && line.length === s2 + 2)) return undefined;
  const stream = line.subarray(s1 + 1, s2).toString();
  const tag = line.subarray(s2 + 1, s2 + 2).toString();
  if ((stream !== 'stdout' && stream !== 'stderr') || (tag !== 'F' && tag !== 'P')) return undefined;
  return { time: line.subarray(0, s1).toString(), stream, partial: tag === 'P', content: s3 < 0 ? Buffer.alloc(0) : Buffer.from(line.subarray(s3 + 1)) };
}

/** The file offset where the last `tail` lines (F records and the P records before them) begin. */
async function tailOffset(fh: FileHandle, size: number, tail: number): Promise<number> {
  if (tail <= 0) return size;
  let pos = size; // file offset of buf[0]
  let buf = Buffer.alloc(0); // bytes not yet classified; its first record may be incomplete
  let lines = 0;
  while (pos > 0) {
    const n = Math.min(CHUNK, pos);
    pos -= n;
    const chunk = Buffer.alloc(n);
    await fh.read(chunk, 0, n, pos);
    buf = Buffer.concat([chunk, buf]);
    let end = buf.length; // records are [start, end), newest first
    while (end > 0) {
      const startNl = end >= 2 ? buf.lastIndexOf(0x0a, end - 2) : -1;
      if (startNl < 0 && pos > 0) break; // its start is in an older chunk
      const rec = parseRecord(buf.subarray(startNl + 1, buf[end - 1] === 0x0a ? end - 1 : end));
      if (rec !== undefined && !rec.partial && ++lines > tail) return pos + end;
      end = startNl + 1;
    }
    buf = buf.subarray(0, end);
  }
  return 0;
}

/** Yields the records of a CRI log file, in order. */
export async function* readCriLog(file: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const since = opts.since === undefined ? -Infinity : toMillis(opts.since, 'since');
  const until = opts.until === undefined ? Infinity : toMillis(opts.until, 'until');
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if (isErrno(e, 'ENOENT') && !opts.follow) return;
    throw e;
  }
  try {
    let pos = opts.tail === undefined ? (opts.from ?? 0) : await tailOffset(fh, (await fh.stat()).size, opts.tail);
    let pending = Buffer.alloc(0);
    const chunk = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, CHUNK, pos);
      if (bytesRead === 0) {
        if (!opts.follow) return;
        // Check before the last read so nothing written just before exit is missed.
        if (opts.isDone && (await opts.isDone())) {
          const again = await fh.read(chunk, 0, CHUNK, pos);
          if (again.bytesRead === 0) return;
          continue;
        }
        await sleep(opts.pollMs ?? 100);
        continue;
      }
      pos += bytesRead;
      let buf = pending.length > 0 ? Buffer.concat([pending, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let nl: number;
      while ((nl = buf.indexOf(0x0a)) >= 0) {
        const rec = parseRecord(buf.subarray(0, nl));
        buf = buf.subarray(nl + 1);
        if (rec === undefined) continue;
        const t = Date.parse(rec.time);
        if (t < since) continue;
        if (t > until) return;
        yield rec;
      }
      pending = Buffer.from(buf);
    }
  } finally {
    await fh.close();
  }
}

/** A container's log; with `follow`, it ends once the container has exited. */
export function readLogs(stateDir: string, id: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const paths = containerPaths(stateDir, id);
  const isDone = opts.isDone ?? (async () => (await readExitState(stateDir, id)) !== undefined);
  return readCriLog(paths.log, { ...opts, isDone });
}

/** Writes entries as `docker logs` prints them: F records end a line; `timestamps` prefixes each line. */
export async function writeLogs(
  entries: AsyncIterable<LogEntry>,
  out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream },
  opts: { timestamps?: boolean } = {},
): Promise<void> {
  const midLine = { stdout: false, stderr: false };
  for await (const e of entries) {
    const w = e.stream === 'stdout' ? out.stdout : out.stderr;
    const prefix = opts.timestamps && !midLine[e.stream] ? `${e.time} ` : '';
    const data = Buffer.concat([Buffer.from(prefix), e.content, e.partial ? Buffer.alloc(0) : Buffer.from('\n')]);
    if (!w.write(data)) await new Promise<void>((r) => w.once('drain', () => r()));
    midLine[e.stream] = e.partial;
  }
}
