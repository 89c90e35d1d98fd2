/**
 * The ContentStore contract over containerd's content service. Writes go
 * through containerd's own ingest (the Write stream: STAT to learn how much a
 * previous attempt left — not asked on a fresh random ref —, WRITE chunks,
 * COMMIT with the expected digest and size; a small document's bytes ride on
 * its COMMIT), so nothing is visible before containerd has verified it, and an
 * interrupted download resumes where it stopped. Calls made under a lease
 * (see ContainerdConnection.leased) keep what they write from GC.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { dataLoss, failedPrecondition, internal, isKilnError, type KilnError, notFound, unavailable } from '../../errors.js';
import { IngestHeldError, whileHeld } from '../../content/held-ingest.js';
import type { BlobInfo, ContentStore, Expected, IngestWriter } from '../../content/store.js';
import type { ContainerdConnection, Message } from './grpc.js';
import { verificationFailed } from '../../content/verification.js';
import { MediaType } from '../../oci/mediatypes.js';

const CHUNK = 1 << 20;
const WINDOW = 8;

/** One Write stream: each request is answered by one response, in order. */
class WriteSession {
  private readonly waiting: { resolve: (m: Message) => void; reject: (e: unknown) => void }[] = [];
  private failure: unknown;
  /** Settles (rejects) when the stream fails or closes, so no wait on it can hang. */
  private readonly broken: Promise<never>;

  constructor(
    private readonly call: ClientDuplexStream<Message, Message>,
    what: string,
    conn: ContainerdConnection,
  ) {
    let fail: (e: unknown) => void = () => undefined;
    this.broken = new Promise<never>((_, reject) => (fail = reject));
    this.broken.catch(() => undefined);
    const close = (e: unknown) => {
      this.failure ??= e;
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
      fail(this.failure);
    };
    call.on('data', (m: Message) => this.waiting.shift()?.resolve(m));
    call.on('error', (e) => close(conn.failure(e as never, what)));
    call.on('end', () => close(internal(`containerd: ${what}: the write stream ended early`)));
    call.on('close', () => close(internal(`containerd: ${what}: the write stream closed`)));
  }

  async send(req: Message): Promise<Message> {
    if (this.failure) throw this.failure;
    const answer = new Promise<Message>((resolve, reject) => this.waiting.push({ resolve, reject }));
    answer.catch(() => undefined); // a caller that stops at a failed drain never awaits it
    if (!this.call.write(req)) await Promise.race([new Promise<void>((r) => this.call.once('drain', () => r())), this.broken]);
    return answer;
  }

  end(): void {
    this.call.end();
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** containerd's answer to a Write on a ref another stream holds: `ref … locked for … (since …): unavailable`. */
const isLockedRef = (e: unknown): boolean => isKilnError(e, 'UNAVAILABLE') && /\blocked\b/.test(e.message);

/** The ref another Write stream holds, as ../../content/held-ingest.ts waits on it: its Status gives offset and updated_at. */
function held(conn: ContainerdConnection, ref: string, e: KilnError): IngestHeldError {
  const { address, namespace } = conn;
  const progress = async () => {
    try {
      const s = (await conn.unary('content', 'Status', { ref }, `ingest ${ref}`)).status as Message;
      const at = s.updated_at as { seconds?: number; nanos?: number } | undefined;
      return { offset: Number(s.offset), updatedAt: Number(at?.seconds ?? 0) * 1000 + Number(at?.nanos ?? 0) / 1e6 };
    } catch (err) {
      if (isKilnError(err, 'NOT_FOUND')) return undefined;
      throw err;
    }
  };
  const store = `containerd at ${address} (namespace ${namespace})`;
  const hint = `see it with 'ctr -a ${address} -n ${namespace} content active'; stop the other writer, then run the command again`;
  return new IngestHeldError({ ref, store, hint, progress }, e.message, { cause: e });
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function* chunks(source: Readable | AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const c of source) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    for (let i = 0; i < b.length; i += CHUNK) yield b.subarray(i, i + CHUNK);
  }
}

/** The label containerd's unpacker gives a layer blob: its diff ID (an uncompressed layer's is its own digest). */
export const UNCOMPRESSED_LABEL = 'containerd.io/uncompressed';

export class ContainerdContentStore implements ContentStore {
  /** The labels of blobs this store committed (none: {}), as containerd holds them then: ensureLabels asks no more about those. */
  private readonly committed = new Map<string, Record<string, string>>();
  /**
   * Documents this leased view wrote (writeBytes): read back from here (a build's manifest and config, as its tag
   * publishes them), until this view deletes them. The lease holds them; only a removal by hand elsewhere would go unseen.
   */
  private readonly documents = new Map<string, Buffer>();

  constructor(private readonly conn: ContainerdConnection) {}

  async info(digest: string): Promise<Message | undefined> {
    try {
      return (await this.conn.unary('content', 'Info', { digest }, `content ${digest}`)).info as Message;
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /** Adds a blob (present or not yet) to the current lease, if any. */
  async hold(digest: string): Promise<void> {
    const lease = this.conn.lease();
    if (lease) await this.conn.unary('leases', 'AddResource', { id: lease, resource: { id: digest, type: 'content' } }, `lease ${lease}`);
  }

  /**
   * Under a lease, a blob found here is first added to the lease, so that
   * containerd's GC (which may be collecting an image just removed) cannot
   * take it away between this answer and the image record that will use it.
   */
  async stat(digest: string): Promise<BlobInfo | undefined> {
    await this.hold(digest);
    const info = await this.info(digest);
    return info && { digest: info.digest as string, size: Number(info.size) };
  }

  /**
   * Gives a blob these labels unless it has them already (no write then: each Update is a transaction containerd
   * syncs to disk). What the blob has is known for one this store committed, else asked (Info, a read).
   */
  async ensureLabels(digest: string, labels: Record<string, string>): Promise<void> {
    const has = this.committed.get(digest) ?? ((await this.info(digest))?.labels as Record<string, string> | undefined) ?? {};
    const missing = Object.fromEntries(Object.entries(labels).filter(([k, v]) => has[k] !== v));
    if (Object.keys(missing).length === 0) return;
    await this.setLabels(digest, missing);
    const known = this.committed.get(digest);
    if (known) Object.assign(known, missing);
  }

  /** Remembers what a blob this store just committed holds (on a leased view only: one lives for one lease's work). */
  private committedWith(digest: string, labels: Record<string, string>): void {
    if (this.conn.lease()) this.committed.set(digest, { ...labels });
  }

  /** Sets (or, with an empty value, removes) labels on a blob, leaving its other labels alone. */
  async setLabels(digest: string, labels: Record<string, string>): Promise<void> {
    const paths = Object.keys(labels).map((k) => `labels.${k}`);
    if (paths.length === 0) return;
    await this.conn.unary('content', 'Update', { info: { digest, labels }, update_mask: { paths } }, `content ${digest}`);
  }

  /**
   * The blob's bytes, streamed; NOT_FOUND (before any byte) when containerd has no such blob. No Info call first:
   * the Read's first answer (its first bytes, its end for an empty blob, or NOT_FOUND) is awaited here instead, one
   * round trip less for every document read (a build's base image, its manifest and config when published).
   */
  async reader(digest: string): Promise<Readable> {
    const stream = this.conn.serverStream('content', 'Read', { digest, offset: 0, size: 0 }, `content ${digest}`);
    let first: IteratorResult<Message>;
    try {
      first = await stream.next();
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) throw notFound(`content ${digest}: not found in containerd (${this.conn.namespace})`);
      throw e;
    }
    async function* data() {
      if (first.done) return;
      yield first.value.data as Buffer;
      for (let m = await stream.next(); !m.done; m = await stream.next()) yield m.value.data as Buffer;
    }
    const out = Readable.from(data(), { objectMode: false });
    // The call is open from here: a reader closed early (or never read) cancels it and ends its tracking.
    out.once('close', () => void stream.return(undefined));
    return out;
  }

  async readBytes(digest: string): Promise<Buffer> {
    const wrote = this.documents.get(digest);
    if (wrote) return Buffer.from(wrote);
    const parts: Buffer[] = [];
    for await (const c of await this.reader(digest)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  /**
   * `fromStart`: what an earlier writer left under the key is written over (containerd truncates the ingest at a
   * WRITE at offset 0), not resumed: for bytes the caller holds whole (writeBytes).
   */
  async writer(key: string, fromStart = false): Promise<IngestWriter> {
    const ref = key.startsWith('kiln-') ? key : `kiln-${key}`;
    return this.open(ref, fromStart ? 'from-start' : 'resume');
  }

  /** A session on `ref` after its STAT (what a killed writer left; a ref another writer holds fails here). */
  private async stated(ref: string): Promise<{ session: WriteSession; kept: number }> {
    const session = new WriteSession(this.conn.duplex('content', 'Write'), `ingest ${ref}`, this.conn);
    try {
      return { session, kept: Number((await session.send({ action: 'STAT', ref })).offset ?? 0) };
    } catch (e) {
      throw isLockedRef(e) ? held(this.conn, ref, e as KilnError) : e;
    }
  }

  /**
   * `fresh`: a ref no one else names (a random one): no STAT round trip first, the first WRITE (or the COMMIT of an
   * empty blob) opens the ingest, at offset 0.
   */
  private async open(ref: string, mode: 'resume' | 'from-start' | 'fresh'): Promise<IngestWriter> {
    let session: WriteSession;
    let offset = 0;
    if (mode === 'fresh') session = new WriteSession(this.conn.duplex('content', 'Write'), `ingest ${ref}`, this.conn);
    else {
      const at = await this.stated(ref);
      session = at.session;
      if (mode === 'resume') offset = at.kept;
    }
    const conn = this.conn;
    const store = this;
    let done = false;
    // What this session writes from byte 0 is hashed too: a commit containerd refuses
    // as "already exists" still tells the caller which digest it asked for.
    const hash = offset === 0 ? createHash('sha256') : undefined;
    return {
      get offset() {
        return offset;
      },
      async write(source) {
        if (done) throw failedPrecondition(`ingest ${ref} in containerd (${conn.namespace}) is already committed or aborted`);
        // Pipelined: up to WINDOW chunks in flight; containerd answers each in order with the new offset.
        // On failure the source is destroyed, not drained: awaiting an iterator's
        // return() on a piped HTTP body can wait forever once containerd is gone.
        const inflight: Promise<Message>[] = [];
        const it = chunks(source)[Symbol.asyncIterator]();
        let next = offset;
        try {
          for (let r = await it.next(); !r.done; r = await it.next()) {
            hash?.update(r.value);
            const sent = session.send({ action: 'WRITE', ref, offset: next, data: r.value });
            // Handled now, awaited later: a stream that fails while the loop waits for the source (the download)
            // must not reject unawaited sends first (Node ends the process on an unhandled rejection).
            sent.catch(() => undefined);
            inflight.push(sent);
            next += r.value.length;
            if (inflight.length >= WINDOW) offset = Number((await inflight.shift()!).offset);
          }
          while (inflight.length > 0) offset = Number((await inflight.shift()!).offset);
        } catch (e) {
          await Promise.allSettled(inflight);
          (source as Readable).destroy?.(e as Error);
          throw e;
        }
      },
      async commit(expected: Expected): Promise<BlobInfo> {
        let hashed: string | undefined;
        const written = () => (hashed ??= hash ? `sha256:${hash.digest('hex')}` : undefined);
        try {
          // Under a lease, the digest is held first: should it exist already (AlreadyExists),
          // GC cannot take it between that answer and the image record that will use it.
          if (expected.digest) await store.hold(expected.digest);
          // An uncompressed layer gets its diff ID, its own digest, as it is committed (no Update of it afterwards).
          const self = expected.mediaType === MediaType.OciLayer ? (expected.digest ?? written()) : undefined;
          const labels: Record<string, string> = self ? { [UNCOMPRESSED_LABEL]: self } : {};
          const res = await session.send({ action: 'COMMIT', ref, offset, total: expected.size ?? offset, expected: expected.digest ?? '', labels });
          const digest = (res.digest as string) || expected.digest!;
          store.committedWith(digest, labels);
          return { digest, size: offset };
        } catch (e) {
          const h = written();
          return await store.afterRefusedCommit(e, expected.digest ?? h, h === undefined ? undefined : { digest: h, size: offset });
        } finally {
          done = true;
          session.end();
        }
      },
      async abort() {
        if (!done) session.cancel();
        done = true;
        await conn.unary('content', 'Abort', { ref }, `ingest ${ref}`).catch(() => undefined);
      },
      async close() {
        // Ends the Write session: containerd unlocks the ref and keeps what was written for a resume.
        if (!done) session.cancel();
        done = true;
      },
    };
  }

  /**
   * After a refused COMMIT of `digest` (the expected one, else what was written): a blob there already (another
   * writer, or an image being removed) is held under our lease before it is relied on, as stat() does, and returned;
   * other bytes than expected throw a verification failure naming what was written (`written`, when the session
   * hashed from byte 0: it lets a pull name the registry, src/content/verification.ts); any other failure is thrown.
   */
  private async afterRefusedCommit(e: unknown, digest: string | undefined, written: BlobInfo | undefined): Promise<BlobInfo> {
    if (isKilnError(e, 'ALREADY_EXISTS') && digest) {
      const have = await this.stat(digest);
      if (have) return have;
      throw unavailable(`content ${digest} was collected by containerd while kiln was writing it`, { hint: 'run the command again' });
    }
    if (isKilnError(e, 'FAILED_PRECONDITION') || isKilnError(e, 'INVALID_ARGUMENT')) {
      const opts = { cause: e, hint: 'the registry or archive served other bytes than its descriptor names' };
      throw written ? verificationFailed(e.message, written, opts) : dataLoss(e.message, opts);
    }
    throw e;
  }

  async ingest(source: Readable | AsyncIterable<Uint8Array>, expected: Expected = {}): Promise<BlobInfo> {
    const w = await this.open(`kiln-ingest-${randomUUID()}`, 'fresh');
    try {
      await w.write(source);
      return await w.commit(expected);
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  /**
   * The ingest is the digest's own (`kiln-<digest>`, as a pull's layers'), written from byte 0: what a killed writer
   * left under it (a pull killed while storing its manifest) is written over and committed by the next, not kept by
   * its lease for an hour under a name no later write uses. A writer still holding it is waited for while it
   * writes (../../content/held-ingest.ts).
   */
  async writeBytes(data: Buffer | string, expected: Expected = {}): Promise<BlobInfo> {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const digest = expected.digest ?? sha256(buf);
    // Another writer of the same bytes (this process or another) is waited for while it moves: it commits them, or lets go of the ref.
    let have: BlobInfo | undefined;
    const ref = `kiln-${digest}`;
    // Asked first without the lease's hold (a write: a transaction containerd syncs): a new blob is held by its commit.
    const stored = async () => ((await this.info(digest)) ? this.stat(digest) : undefined);
    if (buf.length > CHUNK) {
      const w = await whileHeld(async () => ((have = await stored()) ? undefined : this.writer(digest, true)));
      if (!w) return have!;
      try {
        await w.write(Readable.from([buf]));
        return await w.commit({ digest, size: expected.size ?? buf.length });
      } catch (e) {
        await w.abort();
        throw e;
      }
    }
    const opened = await whileHeld(async () => ((have = await stored()) ? undefined : this.stated(ref)));
    if (!opened) return have!;
    // A document (up to a chunk) in one COMMIT: containerd writes a COMMIT's data before it commits, at offset 0 over
    // what a killed writer left; the commit, under our lease, holds it (one there already: ALREADY_EXISTS, then held).
    try {
      const res = await opened.session.send({ action: 'COMMIT', ref, offset: 0, data: buf, total: expected.size ?? buf.length, expected: digest });
      this.committedWith(digest, {});
      if (this.conn.lease()) this.documents.set(digest, Buffer.from(buf));
      return { digest: (res.digest as string) || digest, size: buf.length };
    } catch (e) {
      try {
        return await this.afterRefusedCommit(e, digest, { digest: sha256(buf), size: buf.length });
      } catch (err) {
        await this.conn.unary('content', 'Abort', { ref }, `ingest ${ref}`).catch(() => undefined);
        throw err;
      }
    } finally {
      opened.session.end();
    }
  }

  async delete(digest: string): Promise<void> {
    this.documents.delete(digest);
    this.committed.delete(digest);
    await this.conn.unary('content', 'Delete', { digest }, `content ${digest}`);
  }

  async *list(): AsyncIterable<BlobInfo> {
    for await (const m of this.conn.serverStream('content', 'List', { filters: [] }, 'content list')) {
      for (const info of m.info as Message[]) yield { digest: info.digest as string, size: Number(info.size) };
    }
  }
}
