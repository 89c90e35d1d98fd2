/**
 * A blob download as a Readable that survives dropped connections and
 * stalls: it resumes with `Range: bytes=N-` from where it stopped (bounded
 * attempts), and verifies the digest when it reads from the start.
 */
import { Readable } from 'node:stream';
import { dataLoss, unavailable } from '../errors.js';
import { Digester, digestAlgorithm } from './digest.js';
import { isRetryableError, isStallError, netErrorCode } from './transport/neterror.js';
import { sleep } from './transport/retry.js';
import { formatSeconds, READ_PROGRESS_BYTES, TIMEOUT_ENV } from './transport/timeouts.js';
import { drop, StallError } from './transport/watchdog.js';
import { downloaded } from '../util/young-gc.js';

/** What open() answers: the status (200 or 206), the Content-Length when given, and the body. */
export interface BlobResponse {
  status: number;
  length?: number;
  body: Readable;
}

export interface ReadBlobOptions {
  digest: string;
  offset: number;
  /** Hash what is read from byte 0 and fail on a mismatch (off when the consumer verifies). */
  verify?: boolean;
  attempts: number;
  /** `127.0.0.1:5000/foo`, for messages */
  source: string;
  /** A body that sends less than READ_PROGRESS_BYTES in this long is dropped and resumed. */
  readMs: number;
  /** The descriptor's size: nothing past it is read (a longer answer is refused). */
  size?: number;
  /** Told the position after each chunk received. */
  progress?: (position: number) => void;
  /** GET the blob from `offset` (a 200 or 206 answer; throws otherwise). */
  open(offset: number): Promise<BlobResponse>;
}

/**
 * The download as one Readable driven by the body's events: no promise per
 * chunk between the socket and the consumer. The stall clock runs only while
 * the body flows (time spent waiting for the registry, not for a slow
 * consumer) and restarts once READ_PROGRESS_BYTES have come.
 */
class BlobStream extends Readable {
  private body: Readable | undefined;
  private pos: number;
  private skip = 0;
  private failures = 0;
  private readonly verify: Digester | undefined;
  /** stall clock: ms waited so far, since when the body flows (undefined: paused), bytes since the last reset */
  private waited = 0;
  private since: number | undefined;
  private progress = 0;
  private timer: NodeJS.Timeout | undefined;
  private reopening = false;
  /** the first answer refused (its length): said at the first read, when the consumer listens */
  private refused: Error | undefined;

  constructor(
    private readonly o: ReadBlobOptions,
    first: BlobResponse,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.pos = o.offset;
    this.verify = o.offset === 0 && o.verify !== false ? new Digester(digestAlgorithm(o.digest)) : undefined;
    try {
      this.attach(first);
    } catch (e) {
      this.refused = e as Error;
    }
  }

  private attach(res: BlobResponse): void {
    // a server that ignores Range answers 200 from byte 0: skip what we have
    this.skip = res.status === 200 ? this.pos : 0;
    checkLength(res, this.pos, this.o);
    const body = res.body;
    this.body = body;
    body.pause();
    body.on('data', (c: Uint8Array) => this.onData(body, c));
    body.on('end', () => this.onEnd(body));
    body.on('error', (e) => this.onError(body, e));
    // after a reopen: go on if the consumer still wants bytes (at first, the first _read starts it)
    if (this.reading) this.flow();
  }

  /** the consumer asked for bytes and the body has not been held since */
  private reading = false;

  override _read(): void {
    this.reading = true;
    if (this.refused) return void this.destroy(this.refused);
    if (this.body && !this.reopening) this.flow();
  }

  private flow(): void {
    if (this.since === undefined) {
      this.since = Date.now();
      this.arm(this.o.readMs - this.waited);
    }
    this.body!.resume();
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), Math.max(1, ms));
  }

  /**
   * The timer fired: a stall if the body has flowed readMs without
   * READ_PROGRESS_BYTES, else it waits the rest (progress only moves the
   * clock's start: no timer is touched per chunk).
   */
  private check(): void {
    if (this.since === undefined || this.body === undefined) return;
    const waited = this.waited + (Date.now() - this.since);
    if (waited >= this.o.readMs) this.body.destroy(new StallError(this.o.readMs, this.pos));
    else this.arm(this.o.readMs - waited);
  }

  private onData(body: Readable, c: Uint8Array): void {
    if (body !== this.body || this.destroyed) return;
    let chunk = c;
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.length);
      this.skip -= n;
      chunk = chunk.subarray(n);
      if (chunk.length === 0) return;
    }
    const o = this.o;
    if (o.size !== undefined && this.pos + chunk.length > o.size) {
      drop(body);
      this.destroy(
        dataLoss(`blob ${o.digest} from ${o.source} sends more than the ${o.size} bytes its descriptor says; refused`, {
          hint: 'the registry serves other content than its manifest names; tell its operators, or pull from another registry',
        }),
      );
      return;
    }
    this.pos += chunk.length;
    o.progress?.(this.pos);
    this.progress += chunk.length;
    if (this.progress >= READ_PROGRESS_BYTES) {
      [this.progress, this.waited] = [0, 0];
      this.since = Date.now();
    }
    this.verify?.update(chunk);
    const more = this.push(chunk);
    // the chunks the consumer has taken (copied) and dropped are freed now, not after ~64 MB (util/young-gc.ts)
    downloaded(chunk.length);
    if (!more) this.hold();
  }

  /** The consumer is full: the body waits, and so does the stall clock. */
  private hold(): void {
    this.reading = false;
    this.body?.pause();
    if (this.since !== undefined) this.waited += Date.now() - this.since;
    this.since = undefined;
    clearTimeout(this.timer);
  }

  private onEnd(body: Readable): void {
    if (body !== this.body || this.destroyed) return;
    this.stopClock();
    const o = this.o;
    if (this.verify) {
      const got = this.verify.digest();
      if (got !== o.digest) {
        this.destroy(dataLoss(`blob ${o.digest} from ${o.source} hashes to ${got} (${this.verify.size} bytes)`, { hint: 'the registry or a proxy altered the content; try again' }));
        return;
      }
    }
    this.push(null);
  }

  private onError(body: Readable, e: unknown): void {
    if (body !== this.body || this.destroyed) return;
    this.stopClock();
    this.body = undefined;
    drop(body);
    const o = this.o;
    const code = netErrorCode(e);
    if (!isRetryableError(code)) return void this.failAfterBuffered(e as Error);
    if (++this.failures >= o.attempts) {
      const pos = this.pos;
      if (isStallError(code)) {
        return void this.failAfterBuffered(
          unavailable(
            `blob ${o.digest} from ${o.source} stalled at byte ${pos}: less than ${READ_PROGRESS_BYTES / 1024} KiB in ${formatSeconds(o.readMs)}, ${this.failures} attempts`,
            { cause: e, hint: `the registry or a proxy in front of it stopped sending; try again later (${TIMEOUT_ENV.readMs} sets the limit)` },
          ),
        );
      }
      return void this.failAfterBuffered(
        unavailable(`blob ${o.digest} from ${o.source}: connection dropped ${this.failures} times (at byte ${pos})`, { cause: e, hint: 'try again; kiln resumes from where it stopped' }),
      );
    }
    this.reopening = true;
    [this.progress, this.waited] = [0, 0];
    sleep(100 * 2 ** (this.failures - 1))
      .then(() => (this.destroyed ? undefined : o.open(this.pos)))
      .then((res) => {
        this.reopening = false;
        if (!res) return;
        if (this.destroyed) return drop(res.body);
        this.attach(res);
      })
      .catch((err: unknown) => this.destroy(err as Error));
  }

  /** An error that ends the download: said after the bytes already received are read (a resume starts after them). */
  private failing: Error | undefined;

  private failAfterBuffered(err: Error): void {
    if (this.readableLength === 0) return void this.destroy(err);
    this.failing = err;
  }

  override read(size?: number): unknown {
    const chunk = super.read(size);
    const err = this.failing;
    if (err && this.readableLength === 0 && !this.destroyed) {
      this.failing = undefined;
      // after the consumer has this chunk
      process.nextTick(() => this.destroy(err));
    }
    return chunk;
  }

  private stopClock(): void {
    clearTimeout(this.timer);
    this.since = undefined;
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.stopClock();
    if (this.body) drop(this.body);
    this.body = undefined;
    cb(err);
  }
}

/** A Content-Length that cannot fit the descriptor: refused before the body is read. */
function checkLength(res: BlobResponse, pos: number, o: ReadBlobOptions): void {
  if (o.size === undefined || res.length === undefined) return;
  const whole = res.status === 200 ? res.length : pos + res.length;
  if (whole > o.size) {
    drop(res.body);
    throw dataLoss(`blob ${o.digest} from ${o.source} is ${whole} bytes, not the ${o.size} its descriptor says; refused`, {
      hint: 'the registry serves other content than its manifest names; tell its operators, or pull from another registry',
    });
  }
}

const sources = new WeakMap<Readable, string>();

/** Where a stream readBlob returned reads from (`127.0.0.1:5000/foo`), for a caller that verifies it itself. */
export const blobSource = (stream: Readable): string | undefined => sources.get(stream);

export async function readBlob(o: ReadBlobOptions): Promise<Readable> {
  const first = await o.open(o.offset);
  const stream = new BlobStream(o, first);
  sources.set(stream, o.source);
  return stream;
}
