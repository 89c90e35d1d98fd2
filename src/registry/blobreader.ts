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
import { drop, watched } from './transport/watchdog.js';

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
  /** GET the blob from `offset` (a 200 or 206 answer; throws otherwise). */
  open(offset: number): Promise<BlobResponse>;
}

async function* chunks(first: BlobResponse, o: ReadBlobOptions): AsyncGenerator<Uint8Array> {
  const verify = o.offset === 0 && o.verify !== false ? new Digester(digestAlgorithm(o.digest)) : undefined;
  let pos = o.offset;
  let res = first;
  let failures = 0;
  for (;;) {
    // a server that ignores Range answers 200 from byte 0: skip what we have
    let skip = res.status === 200 ? pos : 0;
    checkLength(res, pos, o);
    try {
      for await (const c of watched(res.body, o.readMs)) {
        let chunk = c as Uint8Array;
        if (skip > 0) {
          const n = Math.min(skip, chunk.length);
          skip -= n;
          chunk = chunk.subarray(n);
          if (chunk.length === 0) continue;
        }
        if (o.size !== undefined && pos + chunk.length > o.size) {
          drop(res.body);
          throw dataLoss(`blob ${o.digest} from ${o.source} sends more than the ${o.size} bytes its descriptor says; refused`, {
            hint: 'the registry serves other content than its manifest names; tell its operators, or pull from another registry',
          });
        }
        pos += chunk.length;
        verify?.update(chunk);
        yield chunk;
      }
      break;
    } catch (e) {
      const code = netErrorCode(e);
      if (!isRetryableError(code)) throw e;
      if (++failures >= o.attempts) {
        if (isStallError(code)) {
          throw unavailable(
            `blob ${o.digest} from ${o.source} stalled at byte ${pos}: less than ${READ_PROGRESS_BYTES / 1024} KiB in ${formatSeconds(o.readMs)}, ${failures} attempts`,
            { cause: e, hint: `the registry or a proxy in front of it stopped sending; try again later (${TIMEOUT_ENV.readMs} sets the limit)` },
          );
        }
        throw unavailable(`blob ${o.digest} from ${o.source}: connection dropped ${failures} times (at byte ${pos})`, {
          cause: e,
          hint: 'try again; kiln resumes from where it stopped',
        });
      }
      await sleep(100 * 2 ** (failures - 1));
      res = await o.open(pos);
    }
  }
  if (verify) {
    const got = verify.digest();
    if (got !== o.digest) {
      throw dataLoss(`blob ${o.digest} from ${o.source} hashes to ${got} (${verify.size} bytes)`, {
        hint: 'the registry or a proxy altered the content; try again',
      });
    }
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
  const stream = Readable.from(chunks(first, o), { objectMode: false, highWaterMark: 1 << 20 });
  sources.set(stream, o.source);
  return stream;
}
