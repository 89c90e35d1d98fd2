/**
 * A layer tar → an eStargz blob (./estargz-toc.ts), streamed: the tar is read
 * block by block and written as gzip members, each regular file's bytes
 * starting a member of their own and a new one every `chunkSize` bytes, so a
 * reader can seek to a file (or chunk) and gunzip that member alone. Headers
 * are copied byte for byte (PAX and GNU long-name records included); the
 * `.no.prefetch.landmark` entry comes first (no prioritized files), the TOC
 * last, then the tar's end and the footer. At most one chunk is held.
 *
 * The blob is still a plain tar.gz, but its tar is the layer's plus the
 * landmark and the TOC, so its diff ID (the uncompressed digest) is new:
 * `result` gives it, the TOC's digest and the uncompressed size (the
 * annotations a manifest carries for it).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { dataLoss } from '../errors.js';
import { decodePaxRecords } from './pax.js';
import { ustarHeader } from './tar-writer.js';
import { DEFAULT_CHUNK_SIZE, estargzFooter, NO_PREFETCH_LANDMARK, TOC_NAME, TYPE_BITS, type Toc, type TocEntry } from './estargz-toc.js';

const gzipAsync = promisify(gzip);
const BLOCK = 512;
const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

export interface EstargzOptions {
  chunkSize?: number;
  /** gzip level, 0-9 (zlib's default when absent). */
  level?: number;
}

export interface EstargzResult {
  /** sha256 of the blob's uncompressed bytes (the layer's new diff ID). */
  diffId: string;
  /** sha256 of the TOC JSON (`containerd.io/snapshot/stargz/toc.digest`). */
  tocDigest: string;
  uncompressedSize: number;
}

/** Reads exact byte counts from a stream. */
class ByteReader {
  private parts: Buffer[] = [];
  private have = 0;
  private readonly it: AsyncIterator<Buffer>;
  constructor(source: Readable) {
    this.it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  /** Up to `n` bytes (fewer only at the end of the stream). */
  async read(n: number): Promise<Buffer> {
    while (this.have < n) {
      const r = await this.it.next();
      if (r.done) break;
      this.parts.push(r.value);
      this.have += r.value.length;
    }
    const all: Buffer = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.parts = rest.length > 0 ? [rest] : [];
    this.have = rest.length;
    return out;
  }
  async exact(n: number, what: string): Promise<Buffer> {
    const b = await this.read(n);
    if (b.length !== n) throw dataLoss(`${what}: the layer tar ends inside an entry`, { hint: 'the layer is corrupt' });
    return b;
  }
  async drain(): Promise<void> {
    while (!(await this.it.next()).done);
  }
}

const str = (h: Buffer, off: number, len: number): string => h.toString('utf8', off, off + len).replace(/\0.*$/s, '');

function num(h: Buffer, off: number, len: number): number {
  if (h[off]! & 0x80) {
    let n = 0;
    for (let i = off + 1; i < off + len; i++) n = n * 256 + h[i]!;
    return n;
  }
  const s = h.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

const TYPES: Record<string, TocEntry['type']> = { '0': 'reg', '\0': 'reg', '7': 'reg', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

/** The TOC entry of a header block, PAX records and GNU long names applied. */
function tocEntry(h: Buffer, pax: Map<string, Buffer>, longName?: string, longLink?: string): TocEntry {
  const flag = String.fromCharCode(h[156]!);
  const type = TYPES[flag];
  if (!type) throw dataLoss(`tar entry "${str(h, 0, 100)}": type ${JSON.stringify(flag)} cannot be written as eStargz`, { hint: 'the layer has an entry type layers do not use' });
  const prefix = h.toString('latin1', 257, 262) === 'ustar' ? str(h, 345, 155) : '';
  const p = (k: string) => pax.get(k)?.toString('utf8');
  const name = p('path') ?? longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
  const mtime = p('mtime') !== undefined ? Math.floor(Number(p('mtime'))) : num(h, 136, 12);
  const e: TocEntry = { name, type, mode: (num(h, 100, 8) & 0o7777) | TYPE_BITS[type]!, uid: Number(p('uid') ?? num(h, 108, 8)), gid: Number(p('gid') ?? num(h, 116, 8)) };
  if (mtime > 0) e.modtime = new Date(mtime * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const link = p('linkpath') ?? longLink ?? str(h, 157, 100);
  if (type === 'symlink' || type === 'hardlink') e.linkName = link;
  const uname = p('uname') ?? str(h, 265, 32);
  const gname = p('gname') ?? str(h, 297, 32);
  if (uname) e.userName = uname;
  if (gname) e.groupName = gname;
  if (type === 'char' || type === 'block') {
    e.devMajor = num(h, 329, 8);
    e.devMinor = num(h, 337, 8);
  }
  for (const [k, v] of pax) {
    if (k.startsWith('SCHILY.xattr.')) (e.xattrs ??= {})[k.slice('SCHILY.xattr.'.length)] = v.toString('base64');
  }
  return e;
}

const sha256 = (): ReturnType<typeof createHash> => createHash('sha256');

/** The eStargz blob of `tar` (an uncompressed layer), and what its manifest entry needs once it has been read. */
export function toEstargz(tar: Readable, opts: EstargzOptions = {}): { stream: Readable; result: Promise<EstargzResult> } {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let resolve!: (r: EstargzResult) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<EstargzResult>((res, rej) => ((resolve = res), (reject = rej)));
  result.catch(() => undefined);
  const diff = sha256();
  let uncompressed = 0;
  let offset = 0;
  let member: Buffer[] = [];
  const add = (b: Buffer): void => {
    member.push(b);
    diff.update(b);
    uncompressed += b.length;
  };
  /** Closes the current gzip member (when it holds anything): its compressed bytes. */
  async function* close(): AsyncGenerator<Buffer> {
    if (member.length === 0) return;
    const gz = await gzipAsync(Buffer.concat(member), opts.level !== undefined ? { level: opts.level } : {});
    member = [];
    offset += gz.length;
    yield gz;
  }
  const entries: TocEntry[] = [];

  /** A regular file's bytes (from `next`), in a member per chunk; its TOC entries. */
  async function* file(first: TocEntry, size: number, next: (n: number) => Promise<Buffer>): AsyncGenerator<Buffer> {
    const whole = sha256();
    let ent = first;
    for (let done = 0; done < size; ) {
      yield* close();
      const n = Math.min(chunkSize, size - done);
      const bytes = await next(n);
      Object.assign(ent, { offset, ...(ent.type === 'chunk' ? { chunkOffset: done } : {}), ...(n < size - done ? { chunkSize: n } : {}), chunkDigest: `sha256:${sha256().update(bytes).digest('hex')}` });
      whole.update(bytes);
      add(bytes);
      entries.push(ent);
      done += n;
      ent = { name: first.name, type: 'chunk' };
    }
    first.digest = `sha256:${whole.digest('hex')}`;
  }

  async function* run(): AsyncGenerator<Buffer> {
    const landmark = ustarHeader({ name: NO_PREFETCH_LANDMARK, mode: 0o644, uid: 0, gid: 0, size: 1, mtime: new Date(0), type: 'file' })!;
    add(landmark);
    const mark: TocEntry = { name: NO_PREFETCH_LANDMARK, type: 'reg', size: 1, mode: 0o100644, uid: 0, gid: 0 };
    yield* file(mark, 1, async () => Buffer.from([0x0f]));
    add(Buffer.alloc(BLOCK - 1));

    const r = new ByteReader(tar);
    let pax = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const h = await r.read(BLOCK);
      if (h.length > 0 && h.length < BLOCK) throw dataLoss('the layer tar ends inside a header', { hint: 'the layer is corrupt' });
      if (h.length === 0 || h.every((b) => b === 0)) break; // the end of the archive (its zero blocks are written after the TOC)
      const flag = String.fromCharCode(h[156]!);
      const size = num(h, 124, 12);
      add(h);
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        const body = await r.exact(size + pad(size), 'a PAX or long-name record');
        add(body);
        const data = body.subarray(0, size);
        if (flag === 'x') pax = decodePaxRecords(data);
        else if (flag === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '');
        else if (flag === 'K') longLink = data.toString('utf8').replace(/\0.*$/s, '');
        continue;
      }
      const ent = tocEntry(h, pax, longName, longLink);
      pax = new Map();
      longName = longLink = undefined;
      if (ent.type === 'reg' && size > 0) {
        ent.size = size;
        yield* file(ent, size, (n) => r.exact(n, `tar entry "${ent.name}"`));
        add(await r.exact(pad(size), `tar entry "${ent.name}"`));
      } else {
        if (size > 0) add(await r.exact(size + pad(size), `tar entry "${ent.name}"`));
        entries.push(ent);
      }
    }
    await r.drain();
    yield* close();

    const toc: Toc = { version: 1, entries };
    const json = Buffer.from(JSON.stringify(toc, null, '\t'));
    const tocOffset = offset;
    add(ustarHeader({ name: TOC_NAME, mode: 0o644, uid: 0, gid: 0, size: json.length, mtime: new Date(0), type: 'file' })!);
    add(json);
    add(Buffer.alloc(pad(json.length) + 2 * BLOCK));
    yield* close();
    yield estargzFooter(tocOffset);
    resolve({ diffId: `sha256:${diff.digest('hex')}`, tocDigest: `sha256:${sha256().update(json).digest('hex')}`, uncompressedSize: uncompressed });
  }

  const gen = run();
  const stream = Readable.from(
    (async function* () {
      try {
        yield* gen;
      } catch (e) {
        reject(e as Error);
        throw e;
      }
    })(),
    { objectMode: false },
  );
  return { stream, result };
}
