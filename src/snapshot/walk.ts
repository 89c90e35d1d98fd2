/**
 * The snapshot walk of an in-place root: every path under it (but the ignored
 * ones) with a stat signature — type and mode, owner, size, mtime and ctime
 * in nanoseconds, inode, symlink target — and the difference of two walks: the
 * paths added or changed (with every parent directory a layer needs) and the
 * paths deleted (as whiteouts, one per deleted subtree).
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { tarOrder, type ChangeList } from '../layer/changes.js';

/** Paths (relative, no leading slash) the walk never enters nor reports. */
export type Ignore = (rel: string) => boolean;

/** rel → signature; the root itself is not in it. */
export type Walk = Map<string, string>;

export function walkRoot(root: string, ignore: Ignore): Walk {
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
      let sig = `${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.rdev}`;
      if (st.isSymbolicLink()) sig += `:${readlinkSync(abs)}`;
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
