/**
 * The snapshot walk of an in-place root: every path under it (but the ignored
 * ones) with a stat signature — type and mode, owner, size, mtime and ctime
 * in nanoseconds, inode, symlink target — and the difference of two walks: the
 * paths added or changed (with every parent directory a layer needs) and the
 * paths deleted (as whiteouts, one per deleted subtree).
 *
 * `kiln executor --snapshot-mode` picks what a signature holds (kaniko's modes):
 * `full` — type and mode, owner, symlink target and the content's sha256 (no
 * times: a file touched but not changed is not in the layer); `redo` — mode,
 * size, mtime and owner; `time` — the type and mtime only (a chmod or chown
 * that keeps the mtime is missed). Without one, the stat signature above
 * (ctime and inode too: every change is seen, nothing is read).
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { tarOrder, type ChangeList } from '../layer/changes.js';

/** Paths (relative, no leading slash) the walk never enters nor reports. */
export type Ignore = (rel: string) => boolean;

/** rel → signature; the root itself is not in it. */
export type Walk = Map<string, string>;

export type SnapshotMode = 'full' | 'redo' | 'time';
export const SNAPSHOT_MODES: readonly SnapshotMode[] = ['full', 'redo', 'time'];

/** Content hashes of `full` walks by path, reused while the stat signature is unchanged (a rewrite changes the ctime). */
export type HashMemo = Map<string, { stat: string; hash: string }>;

function fileHash(abs: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(abs, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function signature(st: BigIntStats, abs: string, r: string, mode: SnapshotMode | undefined, memo: HashMemo | undefined): string {
  const stat = `${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.rdev}`;
  const link = st.isSymbolicLink() ? `:${readlinkSync(abs)}` : '';
  switch (mode) {
    case undefined:
      return stat + link;
    case 'time':
      return `${st.mode & 0o170000n}:${st.mtimeNs}`;
    case 'redo':
      return `${st.mode}:${st.size}:${st.mtimeNs}:${st.uid}:${st.gid}${link}`;
    case 'full': {
      let content = '';
      if (st.isFile()) {
        const known = memo?.get(r);
        content = known?.stat === stat ? known.hash : fileHash(abs);
        memo?.set(r, { stat, hash: content });
      }
      return `${st.mode}:${st.uid}:${st.gid}:${st.rdev}${link}:${content}`;
    }
  }
}

export function walkRoot(root: string, ignore: Ignore, mode?: SnapshotMode, memo?: HashMemo): Walk {
  const out: Walk = new Map();
  const visit = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(rel === '' ? root : path.join(root, rel));
    } catch {
      return; // gone meanwhile, or unreadable: nothing to report under it
    }
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (ignore(r)) continue;
      const abs = path.join(root, r);
      const st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (!st) continue;
      let sig: string;
      try {
        sig = signature(st, abs, r, mode, memo);
      } catch {
        continue; // gone meanwhile
      }
      out.set(r, sig);
      if (st.isDirectory()) visit(r);
    }
  };
  visit('');
  return out;
}

/** Paths to write into the layer (added or changed, with their parent directories) and paths deleted (the top of each deleted subtree), in tar order. */
export type Changes = ChangeList;

const isDirSig = (sig: string | undefined): boolean => sig !== undefined && (Number(sig.slice(0, sig.indexOf(':'))) & 0o170000) === 0o040000;

export function diffWalks(before: Walk, after: Walk): Changes {
  const write = new Set<string>();
  const addWithParents = (rel: string): void => {
    write.add(rel);
    for (let p = path.posix.dirname(rel); p !== '.' && !write.has(p); p = path.posix.dirname(p)) write.add(p);
  };
  for (const [rel, sig] of after) {
    const old = before.get(rel);
    if (old === sig) continue;
    // A directory whose own stat changed only because its entries did is written as a parent anyway.
    addWithParents(rel);
  }
  const deleted: string[] = [];
  for (const rel of before.keys()) {
    if (after.has(rel)) continue;
    const parent = path.posix.dirname(rel);
    // Under a deleted directory, or a directory replaced by a file: the parent's own entry says it all.
    if (parent !== '.' && (!after.has(parent) || !isDirSig(after.get(parent)) || !isDirSig(before.get(parent)))) continue;
    deleted.push(rel);
    if (parent !== '.') addWithParents(parent);
  }
  // A path replaced by one of another type needs no whiteout: its entry replaces it.
  return { paths: [...write].sort(tarOrder), deleted: deleted.sort(tarOrder) };
}
