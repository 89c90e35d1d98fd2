/**
 * PAX extended header records as raw bytes. tar-stream decodes PAX values as
 * UTF-8 text and ignores `uid`/`gid`; layers carry binary xattrs
 * (`SCHILY.xattr.security.capability`) and ids beyond the 6-digit octal
 * field, so kiln encodes these records itself, and reads them back with a
 * pass-through scanner that watches the tar stream tar-stream parses.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { dataLoss } from '../errors.js';

export type PaxRecords = Map<string, Buffer>;

/** Encodes records as `"%d %s=%s\n"`, the length counting its own digits, in bytes. */
export function encodePaxRecords(records: Iterable<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.isBuffer(value) ? value : Buffer.from(value), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len)), body);
  }
  return Buffer.concat(parts);
}

/** Decodes PAX records, values kept as bytes. */
export function decodePaxRecords(buf: Buffer, what = 'PAX header'): PaxRecords {
  const out: PaxRecords = new Map();
  let off = 0;
  while (off < buf.length) {
    if (buf[off] === 0) break; // padding
    const sp = buf.indexOf(0x20, off);
    const len = sp < 0 ? NaN : Number(buf.subarray(off, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= sp - off || off + len > buf.length) {
      throw dataLoss(`${what}: malformed record at byte ${off}`, { hint: 'the layer is corrupt' });
    }
    const rec = buf.subarray(sp + 1, off + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

const BLOCK = 512;

function headerSize(h: Buffer): number {
  if (h[124]! & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!; // base-256 (GNU) for sizes ≥ 8 GiB
    return n;
  }
  const s = h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/**
 * A PassThrough over a tar stream that records, for each entry (in the order
 * tar-stream emits them, 0-based), the PAX records that apply to it (global
 * ones merged). `recordsFor(i)` returns and forgets entry i's records.
 */
export class PaxScanner extends Transform {
  private buf = Buffer.alloc(0);
  private skip = 0; // body bytes of the current entry still to pass
  private paxBody = 0; // bytes of a PAX body still to collect (then padding)
  private paxPad = 0;
  private paxGlobal = false;
  private paxChunks: Buffer[] = [];
  private pending: PaxRecords | undefined;
  private global: PaxRecords = new Map();
  private entry = 0;
  private readonly records = new Map<number, PaxRecords>();

  recordsFor(index: number): PaxRecords | undefined {
    const r = this.records.get(index);
    this.records.delete(index);
    return r;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.scan(chunk);
    } catch (e) {
      return cb(e as Error);
    }
    cb(null, chunk); // observed first, so records exist before tar-stream sees the entry
  }

  private scan(chunk: Buffer): void {
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length);
        this.skip -= n;
        data = data.subarray(n);
        if (this.skip > 0) break;
      }
      if (this.paxBody > 0 || this.paxPad > 0) {
        const n = Math.min(this.paxBody, data.length);
        this.paxChunks.push(data.subarray(0, n));
        this.paxBody -= n;
        data = data.subarray(n);
        if (this.paxBody > 0) break;
        const p = Math.min(this.paxPad, data.length);
        this.paxPad -= p;
        data = data.subarray(p);
        if (this.paxPad > 0) break;
        const recs = decodePaxRecords(Buffer.concat(this.paxChunks));
        this.paxChunks = [];
        if (this.paxGlobal) this.global = new Map([...this.global, ...recs]);
        else this.pending = new Map([...(this.pending ?? []), ...recs]);
        continue;
      }
      if (data.length < BLOCK) break;
      const h = data.subarray(0, BLOCK);
      data = data.subarray(BLOCK);
      if (h.every((b) => b === 0)) continue; // end-of-archive blocks
      const type = String.fromCharCode(h[156]!);
      let size = headerSize(h);
      if (type === 'x' || type === 'g') {
        this.paxBody = size;
        this.paxPad = (BLOCK - (size % BLOCK)) % BLOCK;
        this.paxGlobal = type === 'g';
        if (size === 0) this.paxPad = 0;
        continue;
      }
      if (type !== 'L' && type !== 'K') {
        const recs = this.global.size || this.pending ? new Map([...this.global, ...(this.pending ?? [])]) : undefined;
        const paxSize = recs?.get('size');
        if (paxSize !== undefined) size = Number(paxSize.toString('latin1'));
        if (recs) this.records.set(this.entry, recs);
        this.pending = undefined;
        this.entry++;
      }
      this.skip = size + ((BLOCK - (size % BLOCK)) % BLOCK);
    }
    this.buf = Buffer.from(data);
  }
}

const octal = (n: number, width: number): string => n.toString(8).padStart(width - 1, '0') + '\0';

/**
 * A complete PAX extended header ('x'): the 512-byte ustar header, the records,
 * the padding to the next block. Write it right before the entry it describes.
 */
export function paxHeaderBlock(name: string, records: Iterable<[string, Buffer | string]>, mtimeSec = 0): Buffer {
  const body = encodePaxRecords(records);
  const h = Buffer.alloc(BLOCK);
  const safe = Buffer.from(name.replace(/[^\x20-\x7e]/g, '_')).subarray(0, 100);
  safe.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(body.length, 12), 124, 'latin1');
  h.write(octal(Math.max(0, Math.floor(mtimeSec)), 12), 136, 'latin1');
  h.write('        ', 148, 'latin1'); // checksum field counts as spaces
  h.write('x', 156, 'latin1');
  h.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)]);
}
