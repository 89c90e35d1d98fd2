/**
 * The agent's side of the context sync: brings a slot's directory to a
 * (validated) manifest's state in place. `plan` removes what is gone or
 * changed type, creates directories, symlinks and fifos, keeps files whose
 * content already matches (digests memoised by stat, shared with the
 * builder's hasher) and answers the digests it lacks; `receive` takes their
 * bytes chunk by chunk into `incoming/`, verifies the sha256 and size, then
 * places them (a whole file, alone or in a batch, is written with its mode
 * and mtime at once); `finish` makes the hardlinks and sets modes and mtimes
 * (directories last, deepest first). Only what differs is touched, so the
 * stat memo stays valid for unchanged files.
 *
 * Given the delta from the manifest the directory is known to hold (the
 * slot's stored one), only the delta's paths are looked at: what was removed,
 * what was added or changed, the hardlinks to changed files, and the modes
 * and mtimes of the directories whose contents changed. A no-change build
 * then costs no stat at all; without a delta every path is checked.
 */
import { createHash, type Hash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, closeSync, fchmodSync, fstatSync, futimesSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { copyFile, link, lstat, open, readdir, readlink, rename, rm, symlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { dataLoss, invalidArgument } from '../../../errors.js';
import { SourceHasher } from '../../../builder/hasher.js';
import { comparePaths, type ContextManifest, type ManifestDelta, type ManifestEntry } from './manifest.js';
import type { ContextSlot } from './slot.js';

/**
 * A time in ms as the seconds utimes takes, in the middle of its microsecond: libuv splits the double into seconds and
 * nanoseconds, and at today's times a double is ~0.24 µs coarse, so `ms / 1000` could land just below the
 * millisecond it names (a file of …093.0001 ms became …092.9999: CI saw a copy one ms older than its source).
 */
export const fileTime = (ms: number): number => (Math.round(ms * 1000) + 0.5) / 1e6;

interface Upload {
  fh: FileHandle;
  hash: Hash;
  bytes: number;
  file: string;
}

const kindOf = (st: Stats): string =>
  st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : 'other';

/** Does what is on disk have the right type to be kept (its content checked later)? */
function keepable(st: Stats, e: ManifestEntry | undefined, target?: string): boolean {
  if (!e) return false;
  const k = kindOf(st);
  if (e.type === 'hardlink') return false; // always made again by finish()
  if (k !== e.type) return false;
  return k !== 'symlink' || target === e.target;
}

export class ContextApplier {
  private readonly want = new Map<string, ManifestEntry>();
  /** digest → paths waiting for it. */
  private readonly pending = new Map<string, string[]>();
  private readonly sizes = new Map<string, number>();
  private readonly uploads = new Map<string, Upload>();
  private readonly hasher: SourceHasher;
  private memoLoaded = false;
  /** Paths written whole here with their mode and mtime already set: finish() leaves them be. */
  private readonly metaSet = new Set<string>();
  /** Bytes received and files written, for the build's report. */
  bytesReceived = 0;
  filesWritten = 0;

  constructor(
    private readonly slot: ContextSlot,
    private readonly manifest: ContextManifest,
    /** The agent's root, where the stat memo is kept (shared with the builder's). */
    memoRoot?: string,
    /** What differs from the manifest the directory holds now, when that is known. */
    private readonly delta?: ManifestDelta,
  ) {
    for (const e of manifest.entries) this.want.set(e.path, e);
    this.hasher = new SourceHasher(memoRoot, path.resolve(slot.dir));
  }

  private abs(rel: string): string {
    return path.join(this.slot.dir, ...rel.split('/'));
  }

  /** Removes what is not wanted, creates what needs no bytes, returns the digests to upload. */
  async plan(): Promise<string[]> {
    if (this.delta) {
      // Deepest first; every removed path was in the base, whose parents are directories.
      for (const rel of [...this.delta.remove].sort(comparePaths).reverse()) await rm(this.abs(rel), { recursive: true, force: true });
    } else await this.prune('');
    // Directories made here (and an empty slot): nothing below them exists yet, so a first sync
    // stats none of the paths it is about to write. Entries come parents first.
    const fresh = new Set<string>();
    if (!this.delta && readdirSync(this.slot.dir).length === 0) fresh.add('');
    for (const e of this.delta?.entries ?? this.manifest.entries) {
      const abs = this.abs(e.path);
      const slash = e.path.lastIndexOf('/');
      // Synchronous: thousands of lstats cost less than as many trips through the thread pool.
      const st = fresh.has(slash < 0 ? '' : e.path.slice(0, slash)) ? undefined : lstatSync(abs, { throwIfNoEntry: false });
      switch (e.type) {
        case 'dir':
          if (st && !st.isDirectory()) await rm(abs, { force: true });
          if (!st?.isDirectory()) {
            mkdirSync(abs, { mode: 0o700 });
            fresh.add(e.path);
          }
          break;
        case 'symlink':
          if (st && !keepable(st, e, st.isSymbolicLink() ? await readlink(abs) : undefined)) await rm(abs, { recursive: true, force: true });
          else if (st) break;
          await symlink(e.target!, abs);
          break;
        case 'fifo':
          if (st && !st.isFIFO()) await rm(abs, { recursive: true, force: true });
          else if (st) break;
          await promisify(execFile)('mkfifo', ['-m', '600', abs]);
          break;
        case 'file':
          if (st?.isFile() && (await this.matches(abs, st, e))) break;
          if (st) await rm(abs, { recursive: true, force: true });
          this.sizes.set(e.digest!, e.size!);
          this.pending.set(e.digest!, [...(this.pending.get(e.digest!) ?? []), e.path]);
          break;
        case 'hardlink':
          break;
      }
    }
    // Files written here go into the memo as they are verified: the build's COPY then reads none of them again.
    if (this.pending.size > 0) await this.loadMemo();
    if (this.memoLoaded) await this.hasher.save();
    return [...this.pending.keys()];
  }

  /** A kept file: its bytes must match; a file hardlinked to another is copied apart first. */
  private async matches(abs: string, st: Stats, e: ManifestEntry): Promise<boolean> {
    if (st.size !== e.size) return false;
    await this.loadMemo(); // only when a kept file must be checked: a no-change sync with a delta reads no memo
    if (st.nlink > 1) {
      const tmp = path.join(this.slot.incoming, `unlink-${st.ino}`);
      await copyFile(abs, tmp);
      await rename(tmp, abs);
      st = await lstat(abs);
    }
    return `sha256:${await this.hasher.fileDigest(abs, st)}` === e.digest;
  }

  private async loadMemo(): Promise<void> {
    if (this.memoLoaded) return;
    await this.hasher.load();
    this.memoLoaded = true;
  }

  /** A file now at `rel` with its content, mode and mtime final: its digest goes into the stat memo. */
  private placed(rel: string, hexDigest: string): void {
    const abs = path.resolve(this.abs(rel));
    this.hasher.remember(abs, lstatSync(abs), hexDigest);
    this.metaSet.add(rel);
  }

  /** Removes, under `rel`, everything the manifest does not keep (never following a symlink). */
  private async prune(rel: string): Promise<void> {
    const dir = rel === '' ? this.slot.dir : this.abs(rel);
    for (const name of await readdir(dir)) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(dir, name);
      const st = await lstat(abs);
      const e = this.want.get(childRel);
      const target = st.isSymbolicLink() ? await readlink(abs) : undefined;
      if (!keepable(st, e, target)) await rm(abs, { recursive: true, force: true });
      else if (st.isDirectory()) await this.prune(childRel);
    }
  }

  /** One chunk of an upload; the last one verifies the file and puts it at every path that wants it. */
  async receive(digest: string, data: Uint8Array, last: boolean): Promise<void> {
    const paths = this.pending.get(digest);
    if (!paths) throw invalidArgument(`build context upload: ${digest.slice(0, 19)}… was not asked for (or was sent twice)`);
    let u = this.uploads.get(digest);
    if (!u && last) return this.receiveWhole(digest, paths, data);
    if (!u) {
      const file = path.join(this.slot.incoming, digest.slice(7));
      u = { fh: await open(file, 'w', 0o600), hash: createHash('sha256'), bytes: 0, file };
      this.uploads.set(digest, u);
    }
    u.bytes += data.length;
    this.bytesReceived += data.length;
    if (u.bytes > this.sizes.get(digest)!) throw dataLoss(`build context upload of ${paths[0]}: more bytes than the ${this.sizes.get(digest)} the manifest says`, { hint: 'a file changed while it was sent; build again' });
    u.hash.update(data);
    await u.fh.write(data);
    if (!last) return;
    // Mode and mtime of the path it is renamed to, set before it is closed.
    const e = this.want.get(paths[paths.length - 1]!)!;
    await u.fh.chmod(e.mode);
    await u.fh.utimes(fileTime(e.mtimeMs), fileTime(e.mtimeMs));
    await u.fh.close();
    this.uploads.delete(digest);
    const got = `sha256:${u.hash.digest('hex')}`;
    if (got !== digest || u.bytes !== this.sizes.get(digest)) {
      await rm(u.file, { force: true });
      throw dataLoss(`build context upload of ${paths[0]}: got ${got.slice(0, 19)}… (${u.bytes} bytes), expected ${digest.slice(0, 19)}…`, { hint: 'a file changed while it was sent; build again' });
    }
    for (const [i, rel] of paths.entries()) {
      if (i === paths.length - 1) {
        await rename(u.file, this.abs(rel));
        this.placed(rel, got.slice(7));
      } else await copyFile(u.file, this.abs(rel)); // its mode and mtime set by finish()
      this.filesWritten++;
    }
    this.pending.delete(digest);
  }

  /**
   * Whole files of a `file_batch` message: each verified in memory, then written where it goes with
   * its mode and mtime, synchronously as receiveWhole does: a batch is many small files, and six
   * trips through the thread pool per file (open, write, chmod, utimes, close, lstat) cost more CPU
   * than the calls themselves.
   */
  async receiveBatch(files: { digest?: string; data?: Uint8Array; last?: boolean }[]): Promise<void> {
    const writes: { rel: string; data: Uint8Array; hex: string }[] = [];
    for (const f of files) {
      if (!f.last) throw invalidArgument('build context upload: a file batch holds whole files only (each with last set)');
      const digest = f.digest ?? '';
      const data = f.data ?? Buffer.alloc(0);
      const paths = this.pending.get(digest);
      if (!paths || this.uploads.has(digest)) throw invalidArgument(`build context upload: ${digest.slice(0, 19)}… was not asked for (or was sent twice)`);
      this.verifyWhole(digest, paths, data);
      this.pending.delete(digest);
      for (const rel of paths) writes.push({ rel, data, hex: digest.slice(7) });
    }
    for (const w of writes) {
      const e = this.want.get(w.rel)!;
      const abs = this.abs(w.rel);
      const fd = openSync(abs, 'wx', 0o600);
      try {
        writeFileSync(fd, w.data);
        fchmodSync(fd, e.mode);
        futimesSync(fd, fileTime(e.mtimeMs), fileTime(e.mtimeMs));
        this.hasher.remember(path.resolve(abs), fstatSync(fd), w.hex);
      } finally {
        closeSync(fd);
      }
      this.metaSet.add(w.rel);
      this.filesWritten++;
    }
  }

  private verifyWhole(digest: string, paths: string[], data: Uint8Array): void {
    this.bytesReceived += data.length;
    const got = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (got !== digest || data.length !== this.sizes.get(digest)) {
      throw dataLoss(`build context upload of ${paths[0]}: got ${got.slice(0, 19)}… (${data.length} bytes), expected ${digest.slice(0, 19)}…`, { hint: 'a file changed while it was sent; build again' });
    }
  }

  /**
   * A file in one message: verified in memory, then written where it goes with its mode and mtime
   * (synchronously: small files, and no trip through the thread pool per call).
   */
  private receiveWhole(digest: string, paths: string[], data: Uint8Array): void {
    this.verifyWhole(digest, paths, data);
    for (const rel of paths) {
      const e = this.want.get(rel)!;
      const fd = openSync(this.abs(rel), 'wx', 0o600);
      try {
        writeFileSync(fd, data);
        fchmodSync(fd, e.mode);
        futimesSync(fd, fileTime(e.mtimeMs), fileTime(e.mtimeMs));
      } finally {
        closeSync(fd);
      }
      this.placed(rel, digest.slice(7));
      this.filesWritten++;
    }
    this.pending.delete(digest);
  }

  /**
   * After the last upload: every digest arrived; hardlinks, modes and mtimes set. With `memoLater` the stat memo
   * is written when the caller calls saveMemo (this process's next hasher of the directory shares it meanwhile:
   * builder/hasher.ts).
   */
  async finish(opts: { memoLater?: boolean } = {}): Promise<void> {
    for (const u of this.uploads.values()) await u.fh.close();
    if (this.pending.size > 0) {
      const [d, paths] = this.pending.entries().next().value!;
      throw invalidArgument(`build context upload incomplete: ${this.pending.size} file(s) not sent, e.g. ${paths[0]} (${d.slice(0, 19)}…)`);
    }
    const dirs: ManifestEntry[] = [];
    for (const e of this.touched()) {
      const abs = this.abs(e.path);
      if (e.type === 'hardlink') {
        await rm(abs, { recursive: true, force: true });
        await link(this.abs(e.target!), abs);
        continue;
      }
      if (e.type === 'dir') dirs.push(e);
      else if (!this.metaSet.has(e.path)) this.setMeta(abs, e);
    }
    for (const e of dirs.reverse()) this.setMeta(this.abs(e.path), e);
    if (!opts.memoLater) await this.saveMemo();
  }

  /** Writes the stat memo, when this sync read it (and so may have added to it). */
  async saveMemo(): Promise<void> {
    if (this.memoLoaded) await this.hasher.save();
  }

  /**
   * The entries whose links, modes or mtimes finish() must see to, in manifest order: all of them
   * without a delta; with one, the delta's, every hardlink to a changed file, and the directories
   * holding an added, changed or removed path (writing there moved their mtimes).
   */
  private touched(): ManifestEntry[] {
    if (!this.delta) return this.manifest.entries;
    const paths = new Set(this.delta.entries.map((e) => e.path));
    for (const p of [...paths, ...this.delta.remove]) {
      const i = p.lastIndexOf('/');
      if (i > 0) paths.add(p.slice(0, i));
    }
    return this.manifest.entries.filter((e) => paths.has(e.path) || (e.type === 'hardlink' && paths.has(e.target!)));
  }

  /** Mode and mtime, only when they differ (a chmod moves ctime, which would void the stat memo). */
  private setMeta(abs: string, e: ManifestEntry): void {
    const st = lstatSync(abs);
    if (e.type === 'symlink') {
      if (Math.abs(st.mtimeMs - e.mtimeMs) > 0.01) lutimesSync(abs, fileTime(e.mtimeMs), fileTime(e.mtimeMs));
      return;
    }
    if ((st.mode & 0o7777) !== e.mode) chmodSync(abs, e.mode);
    if (Math.abs(st.mtimeMs - e.mtimeMs) > 0.01) utimesSync(abs, fileTime(e.mtimeMs), fileTime(e.mtimeMs));
  }
}
