/**
 * An overlayfs upper directory (or any directory) → a layer tar stream.
 * Entries are sorted by path; overlay whiteouts (char device 0:0) become
 * `.wh.NAME`, opaque directories (`trusted.overlay.opaque=y`, or the
 * `user.overlay.` form of userxattr mounts) get `.wh..wh..opq`; owners, modes
 * and hardlinks (by dev+ino) are kept; mtimes are clamped to
 * SOURCE_DATE_EPOCH when given, so the same tree gives the same bytes.
 */
import { closeSync, createReadStream, lstatSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { failedPrecondition, invalidArgument } from '../errors.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, headerFromStats, hostileWhiteout, packMode, type PaxHeaders } from './tar.js';
import { paxHeaderBlock } from './pax.js';
import { readXattrTree, readXattrsOf } from './xattr.js';
import { TarWriter } from './tar-writer.js';

export interface DiffOptions {
  /** Clamp every mtime to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  /** Every entry's mtime is this many seconds since the epoch (BuildKit's local and tar exporters with SOURCE_DATE_EPOCH). */
  fixedMtime?: number;
  /** Interpret overlay whiteouts and opaque markers (default true). */
  overlay?: boolean;
  /** Carry `user.*` extended attributes as PAX `SCHILY.xattr.` records (default true). */
  xattrs?: boolean;
  /** Paths (relative, `etc/hosts`) left out of the layer. */
  exclude?: (rel: string) => boolean;
  /**
   * Regular files not on the disk, written as if they were (builder/deferred-files.ts): directory (relative, '' for
   * the top) → name → stats and the file to read. A name also found on the disk is taken from here (the file may
   * be being written there meanwhile).
   */
  extra?: ExtraFiles;
  /** Stats of directories (relative) taken from here, not the disk (their times may change meanwhile: files written into them). */
  dirStats?: Map<string, Stats>;
  /**
   * Only directories can carry extended attributes: every other entry is new and was written without any (a
   * COPY's files: copyFile copies none; directories may be copied up with their lower's), so only theirs are read.
   */
  dirXattrsOnly?: boolean;
  /**
   * Given each small extra file's bytes as the diff read them (a large one is streamed, and not given), before its
   * entry is written: the caller writes the file to the disk from them (builder/deferred-files.ts). A promise is
   * waited for.
   */
  onExtraData?: ExtraDataHook;
}

export type ExtraDataHook = (rel: string, data: Buffer) => Promise<void> | undefined;

export type ExtraFiles = Map<string, Map<string, { source: string; st: Stats }>>;

/** SOURCE_DATE_EPOCH from the environment, or undefined; rejects a value that is not a number of seconds. */
export function sourceDateEpochFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw invalidArgument(`SOURCE_DATE_EPOCH="${v}" is not a number of seconds`, { hint: 'set it to a Unix time, e.g. $(git log -1 --format=%ct)' });
  return Number(v);
}

const isWhiteoutDevice = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
const OPAQUE_KEYS = ['trusted.overlay.opaque', 'user.overlay.opaque'];

/** Attributes a layer carries: file capabilities and user.* (not overlay's own). */
const keepXattr = (name: string): boolean =>
  name === 'security.capability' || (name.startsWith('user.') && !name.startsWith('user.overlay.'));

/** The largest id the ustar header's 6-digit octal field holds; beyond, PAX records say it. */
const MAX_ID = 0o777777;

/** An ASCII stand-in of at most 100 bytes for the ustar name field (readers use PAX `path`). */
function ustarSafe(name: string, dir: boolean): string {
  let s = name.replace(/[^\x20-\x7e]/g, '_');
  if (s.length > 100) s = s.slice(-(dir ? 99 : 100)).replace(/^\/+/, '');
  return dir && !s.endsWith('/') ? `${s}/` : s;
}

/**
 * Writes kiln's own PAX header (raw bytes: binary xattrs, large ids) and returns
 * the entry header to write next, which then needs no PAX of the writer's.
 */
function withOwnPax(w: TarWriter, h: PaxHeaders, records: [string, Buffer][]): PaxHeaders {
  const all: [string, Buffer | string][] = [['path', h.name]];
  if (h.linkname) all.push(['linkpath', h.linkname]);
  all.push(...records);
  const mtime = Math.floor((h.mtime?.getTime() ?? 0) / 1000);
  w.push(paxHeaderBlock(`PaxHeaders/${path.posix.basename(h.name)}`, all, mtime));
  return {
    ...h,
    name: ustarSafe(h.name, h.type === 'directory'),
    linkname: h.linkname ? ustarSafe(h.linkname, false) : h.linkname,
    uid: h.uid! > MAX_ID ? 0 : h.uid,
    gid: h.gid! > MAX_ID ? 0 : h.gid,
  };
}

const SMALL_FILE = 1 << 20;
/**
 * A big file's bytes are read this much at a time (not createReadStream's 64 KiB): a quarter of the reads
 * (thread-pool trips), and chunks big enough that the store's ingest writes them as they are, without a copy
 * (content/staging.ts LARGE_CHUNK); together ~15% of the commit CPU of a 206 MB layer.
 */
const FILE_READ = 256 << 10;

const changedWhileReading = (file: string): Error =>
  failedPrecondition(`${file} changed while it was being archived`, { hint: 'do not modify the directory while kiln diffs it' });

/**
 * A small file's bytes, which must be `size` long: open, one read (into one byte more, so a grown file shows)
 * and close, without readFileSync's fstat.
 */
function readSmall(file: string, size: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      n += got;
      if (got === 0 || n >= size) break; // size bytes, asked for size + 1: the file's end (more: it grew)
    }
    if (n !== size) throw changedWhileReading(file);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** What the writer gathered, unless nothing. */
export function* flush(w: TarWriter): Generator<Buffer> {
  if (!w.empty) yield w.take();
}

/**
 * Writes the entry of `dir/r` (stats `st`): its header (a hardlink to an
 * earlier entry when `links` saw its inode), its kept xattrs and its bytes;
 * small files go into the writer, a large file's bytes are yielded as read.
 * Refuses names that would be whiteouts; skips sockets (returns undefined).
 */
export async function* writeEntry(
  w: TarWriter,
  dir: string,
  r: string,
  st: Stats,
  attrs: Map<string, Buffer> | undefined,
  opts: { sourceDateEpoch?: number; fixedMtime?: number; xattrs?: boolean; onExtraData?: ExtraDataHook },
  links: Map<string, string>,
  source?: string,
): AsyncGenerator<Buffer, PaxHeaders | undefined> {
  const name = path.posix.basename(r);
  const file = source ?? path.join(dir, r);
  const why = hostileWhiteout(name);
  if (why) {
    throw invalidArgument(`/${r}: a file named "${name}" cannot be stored in a layer (in a layer, ${why})`, {
      hint: 'rename it in the build context or the archive, or remove it in the RUN step that made it',
    });
  }
  if (st.isSocket()) return undefined; // not representable in a layer (Docker skips them too)
  let h: PaxHeaders = headerFromStats(r, st, { clampMtime: opts.sourceDateEpoch, linkname: st.isSymbolicLink() ? readlinkSync(file) : undefined });
  // BuildKit's local and tar exporters with SOURCE_DATE_EPOCH: every entry's time is the epoch.
  if (opts.fixedMtime !== undefined) h = { ...h, mtime: new Date(opts.fixedMtime * 1000) };
  if (st.isFile() && st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = links.get(key);
    if (first !== undefined) h = { ...h, type: 'link', linkname: first, size: 0 }; // shares the first one's inode and xattrs
    else links.set(key, r);
  }
  const records: [string, Buffer][] = [];
  if (attrs && opts.xattrs !== false && h.type !== 'link') for (const [k, v] of attrs) if (keepXattr(k)) records.push([`SCHILY.xattr.${k}`, v]);
  if (h.uid! > MAX_ID || h.gid! > MAX_ID) records.push(['uid', Buffer.from(String(h.uid))], ['gid', Buffer.from(String(h.gid))]);
  const out = records.length > 0 ? withOwnPax(w, h, records) : h;
  if (h.type === 'file' && st.size <= SMALL_FILE) {
    const data = readSmall(file, st.size);
    if (source !== undefined && opts.onExtraData) {
      const wait = opts.onExtraData(r, data);
      if (wait) await wait;
    }
    w.entry(out, data);
  } else if (h.type === 'file') {
    w.header(out, st.size);
    yield* flush(w);
    let n = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: FILE_READ }) as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > st.size) throw changedWhileReading(file);
      yield chunk;
    }
    if (n !== st.size) throw changedWhileReading(file);
    w.pad(st.size);
  } else {
    w.entry(out);
  }
  return h;
}

/** The directories under `dir` ('' for itself) as relative paths; symlinks are not followed. */
function directories(dir: string): string[] {
  const out = [''];
  for (let i = 0; i < out.length; i++) {
    const rel = out[i]!;
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) if (e.isDirectory()) out.push(rel === '' ? e.name : `${rel}/${e.name}`);
  }
  return out;
}

/** The layer tar of `dir` (uncompressed), streamed. Errors destroy the stream. */
export function diffDirectory(dir: string, opts: DiffOptions = {}): Readable {
  return Readable.from(diffChunks(dir, opts), { objectMode: false, highWaterMark: 1 << 20 });
}

async function* diffChunks(dir: string, opts: DiffOptions): AsyncGenerator<Buffer> {
  const w = new TarWriter();
  const clamp = opts.sourceDateEpoch;
  const overlay = opts.overlay !== false;
  const links = new Map<string, string>(); // dev:ino → first path
  const entryOpts = { sourceDateEpoch: clamp, xattrs: opts.xattrs, ...(opts.fixedMtime !== undefined ? { fixedMtime: opts.fixedMtime } : {}), ...(opts.onExtraData ? { onExtraData: opts.onExtraData } : {}) };
  const header = (name: string, st: Stats, linkname?: string): PaxHeaders => {
    const h = headerFromStats(name, st, { clampMtime: clamp, linkname });
    return opts.fixedMtime === undefined ? h : { ...h, mtime: new Date(opts.fixedMtime * 1000) };
  };

  async function* walk(xattrs: Map<string, Map<string, Buffer>>, rel: string): AsyncGenerator<Buffer> {
    const children: { name: string; st: Stats; sortKey: string; source?: string }[] = [];
    // Metadata and small files are read synchronously: from the page cache that
    // is several times faster than a thread-pool round trip per call.
    const extra = opts.extra?.get(rel);
    for (const name of readdirSync(path.join(dir, rel))) {
      if (extra?.has(name)) continue;
      const st = (opts.dirStats?.get(rel === '' ? name : `${rel}/${name}`)) ?? lstatSync(path.join(dir, rel, name));
      children.push({ name, st, sortKey: overlay && isWhiteoutDevice(st) ? `${WHITEOUT_PREFIX}${name}` : name });
    }
    for (const [name, { source, st }] of extra ?? []) children.push({ name, st, sortKey: name, source });
    children.sort((a, b) => byBytes(a.sortKey, b.sortKey)); // by the name written to the tar
    for (const { name, st, source } of children) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (opts.exclude?.(r)) continue;
      const dirAttrs = xattrs.get(r);
      if (overlay && isWhiteoutDevice(st)) {
        const wh = rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`;
        const h = header(wh, st);
        w.entry({ ...h, type: 'file', size: 0, mode: packMode(st.mode & 0o777), devmajor: 0, devminor: 0 });
        continue;
      }
      const h = yield* writeEntry(w, dir, r, st, source ? undefined : dirAttrs, entryOpts, links, source);
      if (h && st.isDirectory()) {
        if (overlay && dirAttrs && OPAQUE_KEYS.some((k) => dirAttrs.get(k)?.toString() === 'y')) {
          w.entry({ ...h, name: `${r}/${OPAQUE_WHITEOUT}`, type: 'file', size: 0, mode: packMode(st.mode & 0o777) });
        }
        yield* walk(xattrs, r);
      }
      if (w.full) yield w.take();
    }
  }

  const needXattrs = overlay || opts.xattrs !== false;
  const xattrs = !needXattrs ? new Map<string, Map<string, Buffer>>() : opts.dirXattrsOnly ? await readXattrsOf(dir, directories(dir)) : await readXattrTree(dir);
  yield* walk(xattrs, '');
  w.finalize();
  yield* flush(w);
}
