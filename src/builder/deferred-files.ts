/**
 * The last COPY of the image's final stage: nothing later in the build reads
 * its root, so its regular files need not be created at all, only written to
 * the layer. copy.ts hands such a file here (instead of to FileJobs) when its
 * directory is one the COPY made (a new directory in the overlay's upper dir,
 * whose presence and metadata the diff reads from the disk as before); the
 * diff then writes each deferred file's entry from its source with the owner,
 * mode and time the copy would have given it (./layer-commit.ts), and the
 * step's upper dir is dropped instead of kept as a snapshot (it lacks these
 * files): a later build or run that needs the chain unpacks it from the layer.
 * A path placed again (a second source for it) is materialized first, so the
 * copy's overwrite rules see the real file.
 * A snapshotter that keeps every layer's root (containerd's) needs the files
 * on the disk too: the diff writes each small one from the bytes it read from
 * its source (`writer`), straight into the upper dir once the root is
 * unmounted, and `writeAll` the large ones after it.
 */
import { chmodSync, closeSync, constants, copyFileSync, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, openSync, utimesSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { ExtraDataHook, ExtraFiles } from '../layer/diff.js';
import { FileJobs } from './file-jobs.js';

interface Deferred {
  abs: string;
  owner: { uid: number; gid: number } | undefined;
  mode: number | undefined;
  st: Stats;
}

export class DeferredFiles {
  private readonly files = new Map<string, Deferred>();
  /** Targets written by `writer` (from the diff's bytes): writeAll leaves them. */
  private readonly written = new Set<string>();

  /** As FileJobs.add, but only remembered: `owner` undefined when the file would be root's (0:0) already. */
  add(target: string, abs: string, owner: { uid: number; gid: number } | undefined, mode: number | undefined, st: Stats): undefined {
    this.files.set(target, { abs, owner, mode, st });
    return undefined;
  }

  has(target: string): boolean {
    return this.files.has(target);
  }

  get size(): number {
    return this.files.size;
  }

  /** Creates the deferred file at `target` now (as FileJobs would have), if there is one. */
  materialize(target: string): void {
    const f = this.files.get(target);
    if (!f) return;
    this.files.delete(target);
    copyFileSync(f.abs, target);
    if (f.owner) lchownSync(target, f.owner.uid, f.owner.gid);
    if (f.mode !== undefined) chmodSync(target, f.mode);
    utimesSync(target, f.st.atime, f.st.mtime);
  }

  /** The directories (relative to `rootfs`) the deferred files go into, as they are on the disk now (in `upper`). */
  dirStats(rootfs: string, upper: string): Map<string, Stats> {
    const out = new Map<string, Stats>();
    for (const target of this.files.keys()) {
      const dir = path.relative(rootfs, path.dirname(target));
      if (!out.has(dir)) out.set(dir, lstatSync(path.join(upper, dir)));
    }
    return out;
  }

  /**
   * Writes every deferred file now (as FileJobs would have during the copy), then gives the directories in
   * `dirs` (relative to `rootfs`, from dirStats) back the times those writes changed. `into`: where the root's
   * paths are written (its overlay upper dir once the root is unmounted: plain files on the upper filesystem,
   * no overlay in between; the directories they go into are new ones the COPY made, so they are in the upper
   * dir). Waits for every write even when one fails, then throws the first failure.
   */
  async writeAll(rootfs: string, dirs: Map<string, Stats>, into = rootfs): Promise<void> {
    const top = rootfs.endsWith('/') ? rootfs : `${rootfs}/`;
    const at = (target: string): string => (into === rootfs ? target : path.join(into, target.startsWith(top) ? target.slice(top.length) : path.relative(rootfs, target)));
    const jobs = new FileJobs();
    try {
      for (const [target, f] of acrossDirs(this.files)) if (!this.written.has(target)) await jobs.add(at(target), f.abs, f.owner, f.mode, f.st);
    } finally {
      await jobs.drain();
    }
    for (const [dir, st] of dirs) utimesSync(path.join(into, dir), st.atime, st.mtime);
  }

  /**
   * The diff's hook (DiffOptions.onExtraData) that writes each small deferred file from the bytes the diff just
   * read from its source, under `into` (where the root's paths are written, as for writeAll; the first write waits
   * for it): no second read of the source, no thread-pool trip per call. In a containerd build a COPY's files were
   * written by copyFile and utimes on the thread pool while the diff read them, and those jobs took ~12% of the
   * build (their callbacks and the CPU they took from the diff, 2 cores). writeAll then writes the rest (large
   * files, which the diff streams) and gives the directories their times back.
   */
  writer(rootfs: string, into: Promise<string>): ExtraDataHook {
    const top = rootfs.endsWith('/') ? rootfs : `${rootfs}/`;
    let dest: string | undefined;
    const write = (rel: string, data: Buffer): undefined => {
      const target = top + rel;
      const f = this.files.get(target);
      if (f === undefined) return undefined;
      writeNew(path.join(dest!, rel), data, f);
      this.written.add(target);
      return undefined;
    };
    return (rel, data) => {
      if (dest !== undefined) return write(rel, data);
      return into.then((d) => {
        dest = d;
        write(rel, data);
      });
    };
  }

  /**
   * The deferred files as the diff of `upper` (mounted at `rootfs`) takes them: by directory relative
   * to the root, each with the stats the created file would have had and its source to read.
   */
  extra(rootfs: string): ExtraFiles {
    const out: ExtraFiles = new Map();
    const top = rootfs.endsWith('/') ? rootfs : `${rootfs}/`;
    for (const [target, f] of this.files) {
      // Targets are normalized paths under the root (copy.ts joins them): a slice, not path.relative's two resolves.
      const rel = target.startsWith(top) ? target.slice(top.length) : path.relative(rootfs, target);
      const slash = rel.lastIndexOf('/');
      const dir = slash < 0 ? '' : rel.slice(0, slash);
      let names = out.get(dir);
      if (!names) out.set(dir, (names = new Map()));
      names.set(rel.slice(slash + 1), { source: f.abs, st: createdStats(f) });
    }
    return out;
  }
}

/**
 * Creates `dst` (it must not exist) holding `data`, as FileJobs makes a copy of the source: the source's mode
 * (copyFile's, no umask), then the owner (a chown clears set-id bits), then the mode asked for, then the times.
 */
function writeNew(dst: string, data: Buffer, f: Deferred): void {
  const fd = openSync(dst, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    for (let n = 0; n < data.length; ) n += writeSync(fd, data, n);
    if (f.mode === undefined) fchmodSync(fd, f.st.mode & 0o7777);
    if (f.owner) fchownSync(fd, f.owner.uid, f.owner.gid);
    if (f.mode !== undefined) fchmodSync(fd, f.mode);
    futimesSync(fd, f.st.atime, f.st.mtime);
  } finally {
    closeSync(fd);
  }
}

/**
 * The lstat of the file FileJobs would have made: regular, 0:0 unless owned otherwise, the given mode (else the
 * source's, which copyFile sets), one link, the source's size, and its mtime to the millisecond (utimes takes a Date).
 */
function createdStats(f: Deferred): Stats {
  const st = Object.assign(Object.create(Object.getPrototypeOf(f.st) as object) as Stats, f.st);
  const perms = f.mode ?? f.st.mode & 0o7777;
  st.mode = (f.st.mode & ~0o7777) | perms;
  st.uid = f.owner?.uid ?? 0;
  st.gid = f.owner?.gid ?? 0;
  st.nlink = 1;
  st.mtimeMs = f.st.mtime.getTime();
  return st;
}

/**
 * The files ordered to visit their directories in turn (the first of each, then the second of each…): the jobs in
 * flight then create in different directories. In one directory, every create waits for the directory's lock,
 * held through the filesystem's inode allocation, and the waiters spin on it (seen: a fifth of a build's CPU).
 */
function acrossDirs(files: Map<string, Deferred>): [string, Deferred][] {
  const byDir = new Map<string, [string, Deferred][]>();
  for (const e of files) {
    const dir = path.dirname(e[0]);
    const list = byDir.get(dir);
    if (list) list.push(e);
    else byDir.set(dir, [e]);
  }
  const lists = [...byDir.values()];
  const out: [string, Deferred][] = [];
  for (let i = 0; out.length < files.size; i++) for (const list of lists) if (i < list.length) out.push(list[i]!);
  return out;
}
