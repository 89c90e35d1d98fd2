/**
 * A tar writer for layers without a stream per entry: headers and small
 * bodies are appended to a buffer the caller takes in large chunks (`full`,
 * `take`), so a layer of thousands of small files costs a few big writes.
 * The bytes are those tar-stream's pack writes for the same headers (ustar
 * blocks; a PAX `path`/`linkpath` header, named `PaxHeader`, when a name is
 * not ASCII or does not fit; the mode of 0 defaulting to 0644/0755; two zero
 * blocks at the end), so layer digests do not depend on which writer made them
 * (tar-writer.test.ts compares the two).
 */
import type { PaxHeaders } from './tar.js';

const BLOCK = 512;
const ZEROS = Buffer.alloc(2 * BLOCK);
/** Bytes gathered before `full` says to take them. */
const CHUNK = 256 * 1024;

const TYPEFLAG: Record<string, number> = {
  file: 0,
  link: 1,
  symlink: 2,
  'character-device': 3,
  'block-device': 4,
  directory: 5,
  fifo: 6,
  'contiguous-file': 7,
  'pax-header': 72,
};

/** `n` octal digits and a space; all sevens when the value does not fit. */
function octal(value: number, n: number): string {
  const s = value.toString(8);
  return s.length > n ? `${'7'.repeat(n)} ` : `${'0'.repeat(n - s.length)}${s} `;
}

/** A 12-byte numeric field: 11 octal digits, or base-256 when it does not fit (or is negative). */
function writeNumber(buf: Buffer, value: number, off: number): void {
  if (value >= 0 && value.toString(8).length <= 11) {
    buf.write(octal(value, 11), off, 'latin1');
    return;
  }
  buf[off] = value < 0 ? 0xff : 0x80;
  let v = value;
  for (let i = 11; i > 0; i--) {
    buf[off + i] = v & 0xff;
    v = Math.floor(v / 0x100);
  }
}

/** A header's fields (the type may also be `pax-header`). */
type BlockHeader = Omit<PaxHeaders, 'type'> & { type?: string };

/** One ustar header block, or undefined when the name or link name needs a PAX header. */
export function ustarHeader(h: BlockHeader): Buffer | undefined {
  let name = h.name;
  let prefix = '';
  if (Buffer.byteLength(name) !== name.length) return undefined; // not ASCII
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (name.length > 100 || prefix.length > 155) return undefined;
  if (h.linkname && Buffer.byteLength(h.linkname) > 100) return undefined;
  const buf = Buffer.alloc(BLOCK);
  buf.write(name, 0);
  buf.write(octal(h.mode! & 0o7777, 6), 100, 'latin1');
  buf.write(octal(h.uid!, 6), 108, 'latin1');
  buf.write(octal(h.gid!, 6), 116, 'latin1');
  writeNumber(buf, h.size!, 124);
  writeNumber(buf, Math.floor(h.mtime!.getTime() / 1000) || 0, 136);
  buf[156] = 0x30 + (TYPEFLAG[h.type ?? 'file'] ?? 0);
  if (h.linkname) buf.write(h.linkname, 157);
  buf.write('ustar\0', 257, 'latin1');
  buf.write('00', 263, 'latin1');
  if (h.uname) buf.write(h.uname, 265);
  if (h.gname) buf.write(h.gname, 297);
  buf.write(octal(h.devmajor || 0, 6), 329, 'latin1');
  buf.write(octal(h.devminor || 0, 6), 337, 'latin1');
  if (prefix) buf.write(prefix, 345);
  let sum = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < 148; i++) sum += buf[i]!;
  for (let i = 156; i < BLOCK; i++) sum += buf[i]!;
  buf.write(octal(sum, 6), 148, 'latin1');
  return buf;
}

/** `"%d %s"` where the number is the record's length in bytes, its own digits included (as tar-stream counts them). */
function paxRecord(text: string): string {
  const len = Buffer.byteLength(text);
  let digits = Math.floor(Math.log(len) / Math.log(10)) + 1;
  if (len + digits >= Math.pow(10, digits)) digits++;
  return `${len + digits}${text}`;
}

export class TarWriter {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** Nothing is gathered. */
  get empty(): boolean {
    return this.bytes === 0;
  }

  /** Enough is gathered for one write. */
  get full(): boolean {
    return this.bytes >= CHUNK;
  }

  /** What is gathered, as one buffer (empty when nothing is). */
  take(): Buffer {
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    [this.chunks, this.bytes] = [[], 0];
    return out;
  }

  /** Raw bytes (whole blocks: a header block kiln encodes itself). */
  push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.chunks.push(buf);
    this.bytes += buf.length;
  }

  /** An entry with its whole body (none for anything but files). */
  entry(h: PaxHeaders, body?: Buffer): void {
    const size = this.header(h, body?.length ?? 0);
    if (size === 0) return;
    this.push(body!);
    this.pad(size);
  }

  /**
   * The header of an entry whose `size` bytes of body the caller pushes next, then `pad(size)`.
   * Returns the size the header says (0 for all but files).
   */
  header(h0: PaxHeaders, size: number): number {
    const h: PaxHeaders = { ...h0, size };
    if (!h.size || h.type === 'symlink') h.size = 0;
    if (!h.mode) h.mode = h.type === 'directory' ? 0o755 : 0o644;
    if (!h.uid) h.uid = 0;
    if (!h.gid) h.gid = 0;
    if (!h.mtime) h.mtime = new Date();
    const plain = h.pax ? undefined : ustarHeader(h);
    if (plain) {
      this.push(plain);
      return h.size;
    }
    let records = '';
    if (h.name) records += paxRecord(` path=${h.name}\n`);
    if (h.linkname) records += paxRecord(` linkpath=${h.linkname}\n`);
    for (const [k, v] of Object.entries(h.pax ?? {})) records += paxRecord(` ${k}=${v}\n`);
    const pax = Buffer.from(records);
    const outer: BlockHeader = {
      name: 'PaxHeader',
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      size: pax.length,
      mtime: h.mtime,
      type: 'pax-header',
      linkname: h.linkname && 'PaxHeader',
      uname: h.uname,
      gname: h.gname,
      devmajor: h.devmajor,
      devminor: h.devminor,
    };
    this.push(ustarHeader(outer)!);
    this.push(pax);
    this.pad(pax.length);
    this.push(ustarHeader({ ...outer, size: h.size, type: h.type })!);
    return h.size;
  }

  /** Zeros up to the next block boundary after a body of `size` bytes. */
  pad(size: number): void {
    const rest = size % BLOCK;
    if (rest) this.push(ZEROS.subarray(0, BLOCK - rest));
  }

  /** The end of the archive: two zero blocks. */
  finalize(): void {
    this.push(ZEROS);
  }
}
