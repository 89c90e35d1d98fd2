/**
 * The content checksum BuildKit (v0.34.2) gives a COPY's sources in the build
 * context: one checksum per selector (opsutils.NewContentHashFunc), plain paths
 * deduplicated (a path under another one listed goes), all sorted by path, the
 * list's digest the COPY's content record (keys.ts contentRecord).
 *
 * A wildcard source (cache/contenthash includedPaths), the wildcard in its last
 * component only: the matches of the pattern in its directory, a matched file
 * as its checksum, a matched directory flattened (each directory's header
 * checksum, each file's and symlink's checksum, not the directory checksum),
 * all in the byte order of their paths with "/" as "\0", hashed as
 * `<path relative to the pattern's directory, "/" as "\0"><checksum>` each.
 * Measured in copy-content.test.ts.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { componentPattern } from '../sources.js';
import { sha256 } from './keys.js';
import { entryHeader, treeChecksum, type IgnoreTest } from './tree-checksum.js';

export const hasWildcard = (p: string): boolean => /[*?[]/.test(p);

/** BuildKit's dedupePaths: unique, none under another one listed ("/" covers all). */
function dedupe(paths: string[]): string[] {
  const set = [...new Set(paths)];
  const under = (p: string, q: string) => p !== q && p.startsWith(q.endsWith('/') ? q : q + '/');
  return set.filter((p) => !set.some((q) => under(p, q)));
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A .dockerignore's test, and whether a directory source is named under it (else files only). */
export interface Ignoring {
  test: IgnoreTest;
  dirs: boolean;
}

/**
 * The checksums of the sources (absolute, normalized paths in the context) in
 * BuildKit's selector order, or undefined when one is not computed (a
 * symlink source, a missing one, a wildcard with no match or not only in its
 * last component, a socket or device; under a .dockerignore a wildcard, and
 * a directory unless `ignoring.dirs`: its tree as the client sends it).
 */
export async function sourceChecksums(contextDir: string, sources: string[], ignoring?: Ignoring): Promise<string[] | undefined> {
  const plain = dedupe(sources.filter((s) => !hasWildcard(s)));
  const selectors = [...plain, ...sources.filter(hasWildcard)].sort(byBytes);
  const out: string[] = [];
  for (const s of selectors) {
    const sum = hasWildcard(s) ? (ignoring ? undefined : await wildcardChecksum(contextDir, s)) : await plainChecksum(contextDir, s, ignoring);
    if (sum === undefined) return undefined;
    out.push(sum);
  }
  return out;
}

async function plainChecksum(contextDir: string, src: string, ignoring: Ignoring | undefined): Promise<string | undefined> {
  if (src.includes('\\')) return undefined;
  const abs = path.join(contextDir, src);
  const st = await lstat(abs).catch(() => undefined);
  if (!st || !(st.isFile() || (st.isDirectory() && (!ignoring || ignoring.dirs)))) return undefined;
  const kept = ignoring && st.isDirectory() ? { rel: src.slice(1), excludes: (r: string) => ignoring.test.excludes(r), exceptions: ignoring.test.hasExceptions } : undefined;
  return treeChecksum(abs, src === '/', kept);
}

/** A flattened entry: its path in the context and its checksum. */
interface Flat {
  path: string;
  checksum: string;
}

async function wildcardChecksum(contextDir: string, pattern: string): Promise<string | undefined> {
  const dir = path.posix.dirname(pattern);
  const last = path.posix.basename(pattern);
  if (hasWildcard(dir) || pattern.includes('\\')) return undefined;
  const dirSt = await lstat(path.join(contextDir, dir)).catch(() => undefined);
  if (!dirSt?.isDirectory()) return undefined;
  const re = componentPattern(last);
  const flat: Flat[] = [];
  for (const name of (await readdir(path.join(contextDir, dir))).filter((n) => re.test(n))) {
    const p = path.posix.join(dir, name);
    const st = await lstat(path.join(contextDir, p));
    if (st.isFile()) {
      const sum = await treeChecksum(path.join(contextDir, p));
      if (sum === undefined) return undefined;
      flat.push({ path: p, checksum: sum });
    } else if (st.isDirectory()) {
      if (!(await flatten(contextDir, p, st.mode, flat))) return undefined;
    } else return undefined; // a symlink BuildKit follows, or a socket or device
  }
  if (flat.length === 0) return undefined;
  const prefix = dir === '/' ? '' : dir;
  const key = (p: string) => p.slice(prefix.length).replaceAll('/', '\0');
  flat.sort((a, b) => byBytes(key(a.path), key(b.path)));
  if (flat.length === 1 && path.posix.basename(flat[0]!.path) === last) return flat[0]!.checksum;
  const h = createHash('sha256');
  for (const f of flat) h.update(key(f.path) || '\0').update(f.checksum);
  return `sha256:${h.digest('hex')}`;
}

/** A matched directory: its header, then every entry under it (directories as headers). */
async function flatten(contextDir: string, p: string, mode: number, flat: Flat[]): Promise<boolean> {
  flat.push({ path: p, checksum: sha256(entryHeader({ mode, size: 0, typeflag: '5' })) });
  for (const name of await readdir(path.join(contextDir, p))) {
    const child = path.posix.join(p, name);
    const st = await lstat(path.join(contextDir, child));
    if (st.isDirectory()) {
      if (!(await flatten(contextDir, child, st.mode, flat))) return false;
      continue;
    }
    const sum = await treeChecksum(path.join(contextDir, child));
    if (sum === undefined) return false;
    flat.push({ path: child, checksum: sum });
  }
  return true;
}
