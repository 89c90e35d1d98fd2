/**
 * Blob uploads (distribution spec): POST to open a session, then either one
 * PUT ?digest= with the whole body (monolithic) or PATCH chunks with
 * Content-Range and a closing PUT. Data is hashed while it is sent; a
 * failed attempt reopens the source and starts a new session (bounded).
 * The session's POST goes out while the source opens; a source that fails to
 * open has its session deleted, so the registry keeps no upload for nothing.
 */
import { Readable, Transform } from 'node:stream';
import type { Answer } from './transport/answer.js';
import { dataLoss, invalidArgument, isKilnError } from '../errors.js';
import { Digester, digestAlgorithm } from './digest.js';
import { isRetryableError, netErrorCode } from './transport/neterror.js';
import { isRetryableStatus, sleep } from './transport/retry.js';
import type { Transport } from './transport/transport.js';

export interface UploadOptions {
  transport: Transport;
  /** `/foo/blobs/uploads/` */
  uploadsPath: string;
  blob: { digest: string; size: number };
  open: () => Promise<Readable>;
  chunkSize?: number;
  /** Told when a session is open (each attempt's). */
  onSession?: () => void;
  attempts: number;
  baseDelayMs: number;
  /** `127.0.0.1:5000/foo`, for messages */
  name: string;
  /** throws the registry's error for a response to `step` */
  fail(res: Answer, step: UploadStep): Promise<never>;
}

/** The request of an upload that failed: `POST /v2/foo/blobs/uploads/`; `session` when it went to the session the POST opened. */
export interface UploadStep {
  request: string;
  session: boolean;
}

/** Marks an attempt failure worth another attempt. */
class Retryable extends Error {
  constructor(
    readonly response: Answer,
    readonly step: UploadStep,
  ) {
    super('retryable upload failure');
  }
}

async function location(o: UploadOptions, res: Answer, base: URL): Promise<string> {
  const loc = res.headers.get('location');
  if (!loc) throw invalidArgument(`pushing ${o.name}: the registry opened an upload without a Location`, { hint: 'the registry is not spec compliant' });
  return new URL(loc, base).href;
}

async function expect(o: UploadOptions, res: Answer, ok: number[], step: UploadStep): Promise<void> {
  if (ok.includes(res.status)) return;
  if (isRetryableStatus(res.status)) throw new Retryable(res, step);
  await o.fail(res, step);
}

/** `PUT /v2/foo/blobs/uploads/UUID`: a session's URL as the user may read it (no query: it may carry state or tokens). */
const sessionStep = (method: string, loc: string): UploadStep => ({ request: `${method} ${new URL(loc).pathname}`, session: true });

function checkDigest(o: UploadOptions, d: Digester): void {
  const got = d.digest();
  if (got !== o.blob.digest || d.size !== o.blob.size) {
    throw dataLoss(`pushing ${o.name}: blob ${o.blob.digest} (${o.blob.size} bytes) read as ${got} (${d.size} bytes)`, {
      hint: 'the local content changed or is corrupt; verify the store (kiln system check)',
    });
  }
}

async function startSession(o: UploadOptions): Promise<string> {
  const res = await o.transport.request({ method: 'POST', path: o.uploadsPath });
  await expect(o, res, [202], { request: o.transport.where({ method: 'POST', path: o.uploadsPath }), session: false });
  return location(o, res, await o.transport.url(o.uploadsPath));
}

/** A session's POST sent now, its answer awaited later (or never: a failure then is nobody's to report). */
function sessionSent(o: UploadOptions): Promise<string> {
  const session = startSession(o);
  session.catch(() => undefined);
  return session;
}

async function monolithic(o: UploadOptions, src: Readable, session: Promise<string>): Promise<void> {
  // Made while the POST is on its way, not after its answer: a push's first hash loads node:crypto (~2-5 ms here).
  const d = new Digester(digestAlgorithm(o.blob.digest));
  let consumed = false;
  const hashing = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      // passed on before it is hashed: the socket has it ~1 ms (1 MiB) sooner; the next chunk comes after cb
      this.push(chunk);
      d.update(chunk);
      cb();
    },
    flush(cb) {
      consumed = true;
      cb();
    },
  });
  src.on('error', (e) => hashing.destroy(e));
  const loc = await session;
  // told once the PUT is on its way (its set-up is promise work, done before the next turn of the event loop), so
  // what the caller starts then does not hold the upload's first bytes back on this one thread
  if (o.onSession) setImmediate(o.onSession);
  const res = await o.transport.request({
    method: 'PUT',
    path: loc,
    query: { digest: o.blob.digest },
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(o.blob.size) },
    stream: src.pipe(hashing),
  });
  // wrong local bytes are DATA_LOSS, whatever the registry answered (DIGEST_INVALID or, oddly, 201)
  if (consumed) checkDigest(o, d);
  await expect(o, res, [201], sessionStep('PUT', loc));
}

/** Yields buffers of exactly `size` bytes (the last one shorter). */
async function* fixedChunks(src: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of src) {
    let buf = c as Buffer;
    while (buf.length > 0) {
      const take = Math.min(size - have, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

async function chunked(o: UploadOptions, src: Readable, chunkSize: number, session: Promise<string>): Promise<void> {
  const d = new Digester(digestAlgorithm(o.blob.digest));
  let loc = await session;
  o.onSession?.();
  let offset = 0;
  for await (const chunk of fixedChunks(src, chunkSize)) {
    d.update(chunk);
    const res = await o.transport.request({
      method: 'PATCH',
      path: loc,
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${offset}-${offset + chunk.length - 1}`,
        'content-length': String(chunk.length),
      },
      body: chunk,
    });
    await expect(o, res, [202], sessionStep('PATCH', loc));
    loc = await location(o, res, new URL(loc));
    offset += chunk.length;
  }
  checkDigest(o, d);
  const res = await o.transport.request({ method: 'PUT', path: loc, query: { digest: o.blob.digest }, headers: { 'content-length': '0' } });
  await expect(o, res, [201], sessionStep('PUT', loc));
}

/** DELETE of a session nobody will finish (its POST answered with a Location); a failure here changes nothing for the caller. */
async function dropSession(o: UploadOptions, session: Promise<string>): Promise<void> {
  const loc = await session.catch(() => undefined);
  if (loc === undefined) return;
  await o.transport.request({ method: 'DELETE', path: loc }).catch(() => undefined);
}

/** The source, opened; when it cannot be, the session opened for it is deleted before the error goes on. */
async function openSource(o: UploadOptions, session: Promise<string>): Promise<Readable> {
  try {
    return await o.open();
  } catch (e) {
    await dropSession(o, session);
    throw e;
  }
}

export async function uploadBlob(o: UploadOptions): Promise<void> {
  if (o.chunkSize !== undefined && !(o.chunkSize > 0)) throw invalidArgument(`chunk size must be positive, not ${o.chunkSize}`);
  for (let attempt = 1; ; attempt++) {
    // The session's POST goes out while the source opens.
    const session = sessionSent(o);
    let src: Readable | undefined;
    try {
      src = await openSource(o, session);
      if (o.chunkSize) await chunked(o, src, o.chunkSize, session);
      else await monolithic(o, src, session);
      return;
    } catch (e) {
      // a 5xx answer or a dropped connection: open the source again and start a new session
      const retryable = e instanceof Retryable || (isKilnError(e, 'UNAVAILABLE') && isRetryableError(netErrorCode(e.cause)));
      if (!retryable || attempt >= o.attempts) {
        if (e instanceof Retryable) await o.fail(e.response, e.step);
        throw e;
      }
      await sleep(o.baseDelayMs * 3 ** (attempt - 1));
    } finally {
      src?.destroy();
    }
  }
}
