/**
 * The CRI log format (what kubelet and containerd write):
 *   2026-11-23T10:00:00.000000000Z stdout F a full line
 *   2026-11-23T10:00:00.000000000Z stderr P a partial line (no newline yet)
 * CriLogWriter turns the container's stdout/stderr byte streams into records
 * on one append-only file; lines longer than maxLine are cut into P records.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';

export type LogStream = 'stdout' | 'stderr';

/** RFC 3339 with nanoseconds, as CRI writes it (Node has milliseconds: the rest is zero). */
export function criTimestamp(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

export function criRecord(stream: LogStream, tag: 'F' | 'P', content: Buffer, time = criTimestamp()): Buffer {
  return Buffer.concat([Buffer.from(`${time} ${stream} ${tag} `), content, Buffer.from('\n')]);
}

export class CriLogWriter {
  private readonly out: WriteStream;
  private readonly maxLine: number;
  private readonly endTag: 'F' | 'P';

  /** `endPartial`: output that ends without a newline is kept as a P record (printed as it was, with no newline added). */
  constructor(path: string, opts: { maxLine?: number; endPartial?: boolean } = {}) {
    this.out = createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.maxLine = opts.maxLine ?? 16 * 1024;
    this.endTag = opts.endPartial ? 'P' : 'F';
  }

  /** Copies one of the container's streams into the log (and to `tee` if given); resolves at its end. */
  pipe(stream: LogStream, from: Readable, tee?: NodeJS.WritableStream): Promise<void> {
    let pending: Buffer = Buffer.alloc(0);
    return new Promise((resolve, reject) => {
      from.on('data', (chunk: Buffer) => {
        tee?.write(chunk);
        let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
        let nl: number;
        while ((nl = buf.indexOf(0x0a)) >= 0) {
          let line = buf.subarray(0, nl);
          for (; line.length > this.maxLine; line = line.subarray(this.maxLine)) {
            this.out.write(criRecord(stream, 'P', line.subarray(0, this.maxLine)));
          }
          this.out.write(criRecord(stream, 'F', line));
          buf = buf.subarray(nl + 1);
        }
        while (buf.length >= this.maxLine) {
          this.out.write(criRecord(stream, 'P', buf.subarray(0, this.maxLine)));
          buf = buf.subarray(this.maxLine);
        }
        pending = Buffer.from(buf);
      });
      from.on('error', reject);
      from.on('end', () => {
        // The last line without a newline: CRI readers show an F record as a full line.
        if (pending.length > 0) this.out.write(criRecord(stream, this.endTag, pending));
        pending = Buffer.alloc(0);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.on('error', reject);
      this.out.end(() => resolve());
    });
  }
}
