/**
 * BuildKit's (v0.34.2) content checksum of a context directory copied with
 * include patterns (COPY --parents) or exclude patterns (COPY --exclude):
 * cache/contenthash includedPaths with no wildcard. Every entry under the
 * source is a candidate by its path relative to it (the source itself ""): a
 * file or symlink that the includes match (or a parent of it does) and the
 * excludes do not is listed with its checksum, a directory as its header's
 * checksum, and a directory also when something under it is listed; the
 * source's own header too, but for the context's root (BuildKit leaves out
 * the header of a path ending in "/"). The list is hashed as `<"\0" + relative path, "/" as "\0"><checksum>`
 * each, in that order; a single entry with the source's base name is its
 * checksum alone, none is sha256(""). Measured in copy-forms.test.ts.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { IgnoreMatcher } from '../../dockerfile/index.js';
import { sha256 } from './keys.js';
import { entryHeader, treeChecksum } from './tree-checksum.js';

export interface Filters {
  include?: IgnoreMatcher;
  exclude?: IgnoreMatcher;
}

interface Header {
  rel: string;
  checksum: string;
  listed: boolean;
}

/**
 * `src`: the normalized source (absolute in the context, "/" its root), a
 * directory or a file. Undefined when not computed: neither, a pattern with an
 * exception (`!`), a symlink BuildKit would follow (one with no listed
 * directory above it), a socket or device.
 */
export async function filteredChecksum(contextDir: string, src: string, f: Filters): Promise<string | undefined> {
  if (f.include?.hasExceptions || f.exclude?.hasExceptions) return undefined;
  const abs = path.join(contextDir, src);
  const st = await lstat(abs).catch(() => undefined);
  const wanted = (rel: string) => (f.include ? f.include.excludes(rel) : true) && !(f.exclude?.excludes(rel) ?? false);
  // A file source is its own only candidate (measured with --exclude; with include patterns not named).
  if (st?.isFile() && !f.include) return wanted('') ? treeChecksum(abs) : sha256('');
  if (!st?.isDirectory()) return undefined;
  const listed: { rel: string; checksum: string }[] = [];
  const stack: Header[] = [];
  /** Lists an entry, and first the directories above it not listed yet. */
  const list = (e: { rel: string; checksum: string }) => {
    for (const h of stack) {
      if (!h.listed) listed.push(h);
      h.listed = true;
    }
    listed.push(e);
  };
  const dirHeader = (mode: number) => sha256(entryHeader({ mode, size: 0, typeflag: '5' }));
  if (src !== '/') {
    const h: Header = { rel: '', checksum: dirHeader(st.mode), listed: false };
    if (wanted('')) {
      list(h);
      h.listed = true;
    }
    stack.push(h);
  }
  const walk = async (dir: string, relDir: string): Promise<boolean> => {
    const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const child = path.join(dir, name);
      const cst = await lstat(child);
      if (cst.isDirectory()) {
        const h: Header = { rel, checksum: dirHeader(cst.mode), listed: false };
        if (wanted(rel)) {
          list(h);
          h.listed = true;
        }
        stack.push(h);
        const ok = await walk(child, rel);
        stack.pop();
        if (!ok) return false;
        continue;
      }
      if (!wanted(rel)) continue;
      if (cst.isSymbolicLink() && stack.length === 0) return false; // BuildKit follows it
      const sum = await treeChecksum(child);
      if (sum === undefined) return false;
      list({ rel, checksum: sum });
    }
    return true;
  };
  if (!(await walk(abs, ''))) return undefined;
  if (listed.length === 0) return sha256('');
  const full = (rel: string) => (rel ? path.posix.join(src, rel) : src);
  if (listed.length === 1 && path.posix.basename(full(listed[0]!.rel)) === path.posix.basename(src)) return listed[0]!.checksum;
  const h = createHash('sha256');
  for (const e of listed) h.update(`\0${e.rel.replaceAll('/', '\0')}`).update(e.checksum);
  return `sha256:${h.digest('hex')}`;
}
