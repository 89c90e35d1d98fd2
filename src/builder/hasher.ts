/**
 * Content hashes of COPY/ADD sources for cache keys, with a stat-keyed
 * memo (size, mtime, ctime, inode) persisted per context so an unchanged
 * file is never read twice. Owners and times are not part of the hash
 * (a COPY resets owners); modes, types, names, link targets and bytes are.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { pipeline } from 'node:stream/promises';
import { sha256Digest } from '../oci/digest.js';
import { matchSources, walkMatchKept, type SourceRoot } from './sources.js';
import { readSmallSync, tempPath } from '../util/fsutil.js';
import { BoundedLru } from '../util/bounded-lru.js';

type Memo = Record<string, [string, string]>; // abs → [stat signature, digest]

/** Source hashes by (what the root holds and how it is filtered, patterns), oldest dropped first. */
const byContent = new Map<string, string>();

/** The fields of a file's stat its memo entry is keyed by (a Stats, or a record of them kept without its Dates). */
export type StatKey = Pick<Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino'>;

const signature = (st: StatKey): string => `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;

/**
 * Heap bytes a kept memo costs, estimated from its file's length when it is kept (no walk over its entries; it grows
 * as hashers add to it, and the next save or load counts again): parsed, a memo takes ~1.4 times its JSON (measured
 * on node 20: 5,000 entries with an agent's ~90-byte paths, ~290 bytes each; ~1.0 times at ~190-byte paths), plus
 * the cache's own record.
 */
const memoCost = (jsonLength: number): number => 1024 + Math.ceil(jsonLength * 1.5);

/**
 * Memos this process read or wrote, by file, with the file's signature then: a long-lived agent's sync writes the
 * memo and its build reads it a moment later, and the next build's sync again; each is parsed once. Shared by the
 * hashers of one file: every entry is a digest keyed by its file's stat, true whoever added it. 32 MiB of them at
 * most (~22 contexts of 5,000 files), the least recently used dropped first: an agent serving many contexts keeps a
 * fixed ceiling, and a dropped memo is read from its file again.
 */
export const keptMemos = new BoundedLru<string, { sig: string; memo: Memo }>(32 << 20);

function keepMemo(file: string, memo: Memo, sig: string, jsonLength: number): void {
  keptMemos.set(file, { sig, memo }, memoCost(jsonLength));
}

/** '' while there is no file: a memo not yet written is shared too (an agent's first sync and its build). */
const fileSig = (file: string): string => {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? signature(st) : '';
};

/** The hex sha256 of a file read synchronously, 1 MiB at a time. */
function hashFileSync(abs: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(abs, 'r');
  try {
    for (let n; (n = readSync(fd, buf)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export class SourceHasher {
  private memo: Memo = {};
  private dirty = false;
  private readonly file?: string;

  constructor(cacheDir: string | undefined, contextDir: string) {
    if (cacheDir) this.file = path.join(cacheDir, 'buildcache', 'stat', sha256Digest(contextDir).slice(7, 39) + '.json');
  }

  private loaded = false;

  async load(): Promise<void> {
    this.loadSync();
  }

  /**
   * The memo, parsed (or the one this process keeps while its file is the same). Read synchronously, as
   * util/fsutil reads small files: ~1 MB at 5,000 files, where an awaited read is trips through the thread pool
   * that each wait for a busy main thread; the parse costs the same either way.
   */
  loadSync(): void {
    this.loaded = true;
    if (!this.file) return;
    const sig = fileSig(this.file);
    const hit = keptMemos.get(this.file);
    if (hit && hit.sig === sig) {
      this.memo = hit.memo;
      return;
    }
    let length = 0;
    try {
      const text = readSmallSync(this.file)?.toString('utf8') ?? '{}';
      length = text.length;
      this.memo = JSON.parse(text) as Memo;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    keepMemo(this.file, this.memo, sig, length);
  }

  /** Whether a digest was computed or recorded since the memo was loaded (every other one came from it). */
  get changed(): boolean {
    return this.dirty;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = tempPath(this.file);
    const json = JSON.stringify(this.memo);
    await writeFile(tmp, json);
    await rename(tmp, this.file);
    keepMemo(this.file, this.memo, fileSig(this.file), json.length);
  }

  /** Records a file's digest, known from writing it (its stat taken after the last change to it). */
  remember(abs: string, st: StatKey, hexDigest: string): void {
    this.record(abs, signature(st), hexDigest);
  }

  /** The hex sha256 of a file: from the memo when its stat matches, else read (synchronously up to 1 MiB). */
  fileDigest(abs: string, st: StatKey): string | Promise<string> {
    return this.digestOf(abs, st, false);
  }

  /** fileDigest for a caller that cannot wait: a file past 1 MiB is read synchronously too, 1 MiB at a time. */
  fileDigestSync(abs: string, st: StatKey): string {
    return this.digestOf(abs, st, true) as string;
  }

  /** The memo's digest when the stat matches, else the file's bytes hashed and recorded (past 1 MiB: awaited unless `sync`). */
  private digestOf(abs: string, st: StatKey, sync: boolean): string | Promise<string> {
    const sig = signature(st);
    const hit = this.memo[abs];
    if (hit && hit[0] === sig) return hit[1];
    if (st.size <= 1 << 20) return this.record(abs, sig, createHash('sha256').update(readFileSync(abs)).digest('hex'));
    if (sync) return this.record(abs, sig, hashFileSync(abs));
    const h = createHash('sha256');
    return pipeline(createReadStream(abs), h).then(() => this.record(abs, sig, h.digest('hex')));
  }

  private record(abs: string, sig: string, hexDigest: string): string {
    this.memo[abs] = [sig, hexDigest];
    this.dirty = true;
    return hexDigest;
  }

  /**
   * The hash of everything `patterns` select in `root` (undefined entries for patterns with no match).
   * An unchanged file costs one lstat and a memo lookup: nothing is awaited unless a large file must be read.
   * With `known` (the root's whole content and its filters, e.g. BuildOptions.contextDigest and --exclude),
   * the result is remembered in this process by it: the root is not walked again while it names the same.
   */
  async hashSources(root: SourceRoot, patterns: string[], known?: string): Promise<string> {
    if (known === undefined) return this.walkHash(root, patterns);
    const key = JSON.stringify([known, patterns]);
    const hit = byContent.get(key);
    if (hit !== undefined) return hit;
    const hash = await this.walkHash(root, patterns);
    if (byContent.size >= 1024) byContent.delete(byContent.keys().next().value!);
    byContent.set(key, hash);
    return hash;
  }

  private async walkHash(root: SourceRoot, patterns: string[]): Promise<string> {
    if (!this.loaded) await this.load(); // only when a walk needs it: a build whose hashes are all remembered reads no memo
    const h = createHash('sha256');
    for (const p of patterns) {
      h.update(`pattern ${p}\n`);
      for (const m of matchSources(root, p) ?? []) {
        h.update(`match ${m.rel}\n`);
        await this.entry(h, '', m.abs, m.st);
        if (!m.st.isDirectory()) continue;
        for (const e of walkMatchKept(root, m)) {
          const line = this.line(e.rel, e.abs, e.st);
          h.update(typeof line === 'string' ? line : await line);
        }
      }
    }
    return h.digest('hex');
  }

  private async entry(h: ReturnType<typeof createHash>, rel: string, abs: string, st: Stats): Promise<void> {
    h.update(await this.line(rel, abs, st));
  }

  private line(rel: string, abs: string, st: Stats): string | Promise<string> {
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isFile()) {
      const d = this.fileDigest(abs, st);
      return typeof d === 'string' ? `f ${rel} ${mode} ${st.size} ${d}\n` : d.then((x) => `f ${rel} ${mode} ${st.size} ${x}\n`);
    }
    if (st.isDirectory()) return `d ${rel} ${mode}\n`;
    if (st.isSymbolicLink()) return `l ${rel} ${readlinkSync(abs)}\n`;
    return `o ${rel} ${mode} ${st.mode}\n`;
  }
}
