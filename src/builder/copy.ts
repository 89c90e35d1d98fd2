/**
 * COPY/ADD into a root filesystem with Docker's path rules: a directory
 * source copies its contents; a file goes to `dest/NAME` when the
 * destination is a directory (ends with `/`, exists as one, or there are
 * several sources), else to `dest`; missing parents are created; owners are
 * 0:0 for the context (kept from a stage or image) unless `--chown`;
 * `--chmod` replaces modes; ADD extracts local tar archives. Every write is
 * resolved inside the root: an image symlink never leads outside it.
 * Directories, symlinks and hardlinks are made in walk order on the main
 * thread; regular files are copied (with owner, mode and times) on the thread
 * pool, FILE_JOBS at once (./file-jobs.ts); directories get their modes and
 * times once every file is in.
 */
import {
  chmodSync,
  copyFileSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  createReadStream,
  type Stats,
} from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalidArgument } from '../errors.js';
import { resolveInRoot } from '../layer/tar.js';
import { decompress } from '../layer/compress.js';
import { extractLayer, type ExtractGuard } from '../layer/extract.js';
import { takeWalk, type Match, type SourceRoot } from './sources.js';
import type { ChmodFn } from './chmod.js';
import { FileJobs } from './file-jobs.js';
import type { DeferredFiles } from './deferred-files.js';

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyRequest {
  root: SourceRoot;
  /** The context's owners are not kept (files become 0:0). */
  resetOwners: boolean;
  matches: Match[];
  heredocs: { name: string; content: string }[];
  /** Absolute path in the image; a trailing `/` means a directory. */
  dest: string;
  destIsDir: boolean;
  owner?: Owner;
  chmod?: ChmodFn;
  /** ADD: extract local tar archives (not with --unpack=false). */
  extract: boolean;
  /** ADD --unpack: extract tar archives downloaded from URLs too. */
  extractDownloads?: boolean;
  /** COPY --parents: keep each source's path (relative to its root) under the destination. */
  parents?: boolean;
  /** An in-place root's kept paths (`kiln executor`): kiln's own files are never written (refused), mounts are left alone (skipped). */
  guard?: ExtractGuard;
  /** Regular files in directories this COPY makes go here instead of to the disk (./deferred-files.ts). */
  deferred?: DeferredFiles;
}

/** Files this process creates are owned by 0:0 (in a directory of group 0). */
const AS_ROOT = process.geteuid?.() === 0 && process.getegid?.() === 0;

const comps = (p: string): string[] => p.split('/').filter((c) => c !== '' && c !== '.');

export async function copyInto(rootfs: string, req: CopyRequest): Promise<void> {
  const destComps = comps(req.dest);
  const dirs: { target: string; st: Stats }[] = [];
  const links = new Map<string, string>();
  const jobs = new FileJobs();
  // Directories this COPY made, and what it placed: in a directory it made, a name it has not placed yet cannot exist.
  const made = new Set<string>();
  // Of those, the ones owned by group 0: a file root makes there is 0:0 already (setgid parent or not).
  const rootGroup = new Set<string>();
  const placed = new Set<string>();
  const ownerOf = (st: Stats): Owner => req.owner ?? (req.resetOwners ? { uid: 0, gid: 0 } : { uid: st.uid, gid: st.gid });
  const modeOf = (st: Stats): number => (req.chmod ? req.chmod(st.mode & 0o7777, st.isDirectory()) : st.mode & 0o7777);

  /** The destination directory (or a directory under it), created (owned like the copied files) when missing. */
  const destDir = (sub: string[] = []): string => {
    const want = [...destComps, ...sub];
    const existing = resolveInRoot(rootfs, want, { followLast: true });
    allowed(existing);
    const st = lstatSync(existing, { throwIfNoEntry: false });
    if (st?.isDirectory()) return existing;
    if (st) throw invalidArgument(`${req.dest} exists in the image and is not a directory`, { hint: 'copy to a directory path, or remove the file first' });
    const dir = mkdirsOwned(rootfs, want, req.owner);
    made.add(dir);
    if (lstatSync(dir).gid === 0) rootGroup.add(dir);
    return dir;
  };

  /** False when the target is a mount to leave alone; throws when it is kiln's own. */
  const allowed = (target: string): boolean => {
    const kept = req.guard?.check(target);
    if (kept === 'refuse') throw invalidArgument(`cannot copy to ${target.slice(rootfs.length) || '/'}: that is kiln's own files`, { hint: 'copy to another path' });
    return kept !== 'skip';
  };

  /** Places one entry; a promise only when it must wait (a job writing the same path, or no room for another job). */
  const place = (target: string, abs: string, st: Stats): Promise<void> | undefined => {
    if (!allowed(target)) return undefined;
    // A second source for the same path waits for the first (a deferred one is written now).
    req.deferred?.materialize(target);
    return jobs.busy(target) ? jobs.settled(target).then(() => placeNow(target, abs, st)) : placeNow(target, abs, st);
  };

  const placeNow = (target: string, abs: string, st: Stats): Promise<void> | undefined => {
    const old = made.has(path.dirname(target)) && !placed.has(target) ? undefined : lstatSync(target, { throwIfNoEntry: false });
    placed.add(target);
    if (st.isDirectory()) {
      if (old && !old.isDirectory()) rmSync(target, { force: true });
      if (!old?.isDirectory()) {
        mkdirSync(target);
        made.add(target);
      }
      const o = ownerOf(st);
      lchownSync(target, o.uid, o.gid);
      if (!old && o.gid === 0) rootGroup.add(target);
      dirs.push({ target, st });
      return;
    }
    if (old?.isDirectory()) throw invalidArgument(`cannot copy to ${target.slice(rootfs.length)}: a directory is in the way`);
    if (old) rmSync(target, { force: true });
    const o = ownerOf(st);
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(abs), target);
      lchownSync(target, o.uid, o.gid);
      lutimesSync(target, st.atime, st.mtime);
      return;
    }
    if (!st.isFile()) return; // fifos, sockets and devices are not copied
    if (st.nlink > 1) {
      // Hardlinked sources stay hardlinked (they share owner and mode, so the first copy's are right).
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) {
        linkSync(first, target);
        return;
      }
      links.set(key, target);
      copyFileSync(abs, target); // now: the next name links to it
      lchownSync(target, o.uid, o.gid);
      chmodSync(target, modeOf(st));
      utimesSync(target, st.atime, st.mtime);
      return;
    }
    const owned = AS_ROOT && o.uid === 0 && o.gid === 0 && rootGroup.has(path.dirname(target));
    const setMode = req.chmod !== undefined || (st.mode & 0o6000) !== 0;
    const sink = req.deferred && made.has(path.dirname(target)) ? req.deferred : jobs;
    return sink.add(target, abs, owned ? undefined : o, setMode ? modeOf(st) : undefined, st);
  };

  /** A directory .dockerignore excludes but for a `!` exception beneath it is not walked as an entry: placed from its source (mode, owner) before what it keeps. */
  const placeParents = (target: string, srcDir: string): void => {
    if (made.has(target) || lstatSync(target, { throwIfNoEntry: false })) return;
    placeParents(path.dirname(target), path.dirname(srcDir));
    if (allowed(target)) placeNow(target, srcDir, lstatSync(srcDir));
  };

  const copyTree = async (m: Match, into: string): Promise<void> => {
    for (const e of takeWalk(req.root, m)) {
      const parentRel = path.posix.dirname(e.rel);
      let parent = parentRel === '.' ? into : path.join(into, parentRel);
      // A directory the image holds as a symlink is followed inside the root.
      const pst = made.has(parent) ? undefined : lstatSync(parent, { throwIfNoEntry: false });
      if (pst?.isSymbolicLink()) parent = resolveInRoot(rootfs, comps(parent.slice(rootfs.length)), { followLast: true, mkdirs: true });
      else if (!pst && !made.has(parent)) placeParents(parent, path.dirname(e.abs));
      const waiting = place(path.join(parent, path.posix.basename(e.rel)), e.abs, e.st);
      if (waiting) await waiting;
    }
  };

  try {
    for (const m of req.matches) {
      const relComps = m.rel.split('/').filter(Boolean);
      if (m.st.isDirectory()) {
        await copyTree(m, destDir(req.parents ? relComps : []));
        continue;
      }
      if (req.parents) {
        await place(path.join(destDir(relComps.slice(0, -1)), relComps[relComps.length - 1] ?? path.basename(m.abs)), m.abs, m.st);
        continue;
      }
      if ((m.download ? req.extractDownloads : req.extract) && (await isArchive(m.abs))) {
        await jobs.drain();
        await extractArchive(m.abs, destDir(), req.guard);
        continue;
      }
      const name = path.posix.basename(m.rel || m.abs);
      const target = req.destIsDir || isDirInRoot(rootfs, destComps) ? path.join(destDir(), name) : fileTarget(rootfs, destComps, req.owner);
      await place(target, m.abs, m.st);
    }
  } catch (e) {
    await jobs.drain().catch(() => undefined); // nothing may write after a failed COPY returns
    throw e;
  }
  await jobs.drain();
  for (const h of req.heredocs) {
    const target = req.destIsDir ? path.join(destDir(), h.name) : fileTarget(rootfs, destComps, req.owner);
    if (!allowed(target)) continue;
    req.deferred?.materialize(target);
    const old = lstatSync(target, { throwIfNoEntry: false });
    if (old) rmSync(target, { force: true, recursive: old.isDirectory() });
    const mode = req.chmod ? req.chmod(0o644, false) : 0o644;
    writeFileSync(target, h.content, { mode });
    chmodSync(target, mode);
    if (req.owner) lchownSync(target, req.owner.uid, req.owner.gid);
  }
  for (const { target, st } of dirs.reverse()) {
    chmodSync(target, modeOf(st));
    utimesSync(target, st.atime, st.mtime);
  }
}

function isDirInRoot(rootfs: string, destComps: string[]): boolean {
  if (destComps.length === 0) return true;
  return lstatSync(resolveInRoot(rootfs, destComps, { followLast: true }), { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The host path for a file destination: its parents made inside the root; the name itself not followed. */
function fileTarget(rootfs: string, destComps: string[], owner?: Owner): string {
  const parent = mkdirsOwned(rootfs, destComps.slice(0, -1), owner);
  return path.join(parent, destComps[destComps.length - 1]!);
}

/**
 * Makes the directory (and missing parents) inside the root; the directories
 * it creates get `owner` (COPY --chown, WORKDIR under USER), as BuildKit does.
 */
export function mkdirsOwned(rootfs: string, comps: string[], owner?: Owner): string {
  const missing: string[][] = [];
  for (let i = 1; i <= comps.length; i++) {
    const part = comps.slice(0, i);
    if (!lstatSync(resolveInRoot(rootfs, part, { followLast: true }), { throwIfNoEntry: false })) missing.push(part);
  }
  const dir = resolveInRoot(rootfs, comps, { mkdirs: true, followLast: true });
  if (owner) for (const part of missing) lchownSync(resolveInRoot(rootfs, part, { followLast: true }), owner.uid, owner.gid);
  return dir;
}

const MAGIC: [number, Buffer][] = [
  [0, Buffer.from([0x1f, 0x8b])],
  [0, Buffer.from('BZh')],
  [0, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])],
  [0, Buffer.from([0x28, 0xb5, 0x2f, 0xfd])],
  [257, Buffer.from('ustar')],
];

/** Is the file a (possibly compressed) tar archive, as ADD decides? */
async function isArchive(file: string): Promise<boolean> {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(262);
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return MAGIC.some(([off, m]) => n >= off + m.length && head.subarray(off, off + m.length).equals(m));
}

async function extractArchive(file: string, into: string, guard?: ExtractGuard): Promise<void> {
  const head = Buffer.alloc(6);
  const fd = openSync(file, 'r');
  readSync(fd, head, 0, 6, 0);
  closeSync(fd);
  let tar: Readable;
  if (head.subarray(0, 3).equals(Buffer.from('BZh')) || head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    const child = spawn(head[0] === 0x42 ? 'bzip2' : 'xz', ['-dc', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    tar = child.stdout;
  } else {
    tar = await decompress(createReadStream(file));
  }
  await extractLayer(tar, into, { sameOwner: true, whiteouts: 'none', ...(guard ? { guard } : {}) }); // an archive, not a layer: .wh. names are files
}
