/**
 * eStargz's index and footer (the stargz-snapshotter's format, docs/estargz.md):
 *
 *   TOC     `stargz.index.json`, the last tar entry, alone in its gzip member:
 *           {version: 1, entries: [TOCEntry]} – every tar entry, and one more entry
 *           (`chunk`) per further chunk of a large regular file
 *   footer  51 bytes: an empty gzip member whose Extra field holds the subfield
 *           'S','G' with `%016xSTARGZ` (the TOC member's offset in the blob)
 *
 * A TOCEntry's mode carries the file type bits (0o40000 dir, 0o100000 file…)
 * over the tar header's permission bits; `offset` is where the gzip member
 * holding the file's (or chunk's) bytes starts in the blob.
 */
export const TOC_NAME = 'stargz.index.json';
export const NO_PREFETCH_LANDMARK = '.no.prefetch.landmark';
export const TOC_DIGEST_ANNOTATION = 'containerd.io/snapshot/stargz/toc.digest';
export const UNCOMPRESSED_SIZE_ANNOTATION = 'io.containers.estargz.uncompressed-size';
export const FOOTER_SIZE = 51;
/** The stargz-snapshotter's default chunk size. */
export const DEFAULT_CHUNK_SIZE = 4 << 20;

export interface TocEntry {
  name: string;
  type: 'dir' | 'reg' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'chunk';
  size?: number;
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  offset?: number;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Record<string, string>;
  digest?: string;
  chunkOffset?: number;
  chunkSize?: number;
  chunkDigest?: string;
}

export interface Toc {
  version: 1;
  entries: TocEntry[];
}

/** The type bits a TOCEntry's mode carries (Go's os.FileMode as tar headers give it: c_ISDIR…). */
export const TYPE_BITS: Record<string, number> = { dir: 0o40000, reg: 0o100000, hardlink: 0o100000, symlink: 0o120000, char: 0o20000, block: 0o60000, fifo: 0o10000 };

/** The footer pointing at the TOC member at `tocOffset`. */
export function estargzFooter(tocOffset: number): Buffer {
  const footer = Buffer.alloc(FOOTER_SIZE);
  Buffer.from([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 0xff]).copy(footer, 0); // gzip, deflate, FEXTRA, no mtime, OS unknown
  footer.writeUInt16LE(26, 10); // XLEN
  footer.write('SG', 12, 'latin1');
  footer.writeUInt16LE(22, 14); // the subfield's length
  footer.write(`${tocOffset.toString(16).padStart(16, '0')}STARGZ`, 16, 'latin1');
  Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]).copy(footer, 38); // one final stored block of no bytes
  // CRC-32 and size of nothing: eight zero bytes (already zero).
  return footer;
}

/** The TOC offset a footer names, or undefined when the bytes are not an eStargz footer. */
export function parseEstargzFooter(footer: Buffer): number | undefined {
  if (footer.length !== FOOTER_SIZE || footer[0] !== 0x1f || footer[1] !== 0x8b || !(footer[3]! & 0x04)) return undefined;
  if (footer.readUInt16LE(10) !== 26 || footer.toString('latin1', 12, 14) !== 'SG' || footer.readUInt16LE(14) !== 22) return undefined;
  const m = /^([0-9a-f]{16})STARGZ$/.exec(footer.toString('latin1', 16, 38));
  return m ? parseInt(m[1]!, 16) : undefined;
}
