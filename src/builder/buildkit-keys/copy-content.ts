/**
 * The content checksum BuildKit (v0.34.2) gives a COPY's sources in the build
 * context: one checksum per selector (opsutils.NewContentHashFunc), plain paths
 * deduplicated (a path under another one listed goes), all sorted by path, the
 * list's digest the COPY's content record (keys.ts contentRecord).
 *
 * A plain source is followed when it is a symlink (FollowLinks: its target's
 * checksum, the target resolved inside the context).
 *
 * A wildcard source (cache/contenthash includedPaths): the matches of the
 * pattern under its leading components without a wildcard (its "prefix"), a
 * matched file as its checksum, a matched symlink followed, a matched
 * directory flattened (each directory's header checksum, each file's and
 * symlink's checksum, not the directory checksum), all in the byte order of
 * their paths with "/" as "\0", hashed as `<path relative to the prefix, "/"
 * as "\0"><checksum>` each; one match named as the pattern's last component is
 * its own checksum, no match sha256(""). Measured in copy-forms.test.ts.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { componentPattern } from '../sources.js';
import { resolveInRoot } from '../../layer/tar.js';
import { sha256 } from './keys.js';
import { entryHeader, isSent, treeChecksum, type IgnoreTest } from './tree-checksum.js';

export const hasWildcard = (p: string): boolean => /[*?[]/.test(p);

/** BuildKit's dedupePaths: unique, none under another one listed ("/" covers all). */
function dedupe(paths: string[]): string[] {
  const set = [...new Set(paths)];
  const under = (p: string, q: string) => p !== q && p.startsWith(q.endsWith('/') ? q : q + '/');
  return set.filter((p) => !set.some((q) => under(p, q)));
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The checksums of the sources (absolute, normalized paths in the context) in
 * BuildKit's selector order, or undefined when one is not computed (a missing
 * source, a symlink to the context's root, every source a wildcard matching
 * nothing (kiln fails that step), a socket or device; under a .dockerignore a
 * symlink source or match). Under a .dockerignore a directory or wildcard is
 * what the client sends: without what it excludes, an excluded directory
 * holding an exception with its own header and only what it keeps.
 */
export async function sourceChecksums(contextDir: string, sources: string[], ignore?: IgnoreTest): Promise<string[] | undefined> {
  const plain = dedupe(sources.filter((s) => !hasWildcard(s)));
  const selectors = [...plain, ...sources.filter(hasWildcard)].sort(byBytes);
  const out: string[] = [];
  for (const s of selectors) {
    const sum = hasWildcard(s) ? await wildcardChecksum(contextDir, s, ignore && keptBy(ignore)) : await plainChecksum(contextDir, s, ignore);
    if (sum === undefined) return undefined;
    out.push(sum);
  }
  return out;
}

/** `rel` (slash, absolute in the context) with every symlink resolved inside the context, as BuildKit's getFollowLinks; undefined when it cannot be. */
function resolved(contextDir: string, rel: string): string | undefined {
  try {
    return resolveInRoot(contextDir, rel.split('/'), { followLast: true });
  } catch {
    return undefined;
  }
}

/** What the client sends under a .dockerignore (./tree-checksum.ts). */
const keptBy = (ignore: IgnoreTest) => ({ excludes: (r: string) => ignore.excludes(r), exceptions: ignore.hasExceptions });

async function plainChecksum(contextDir: string, src: string, ignore: IgnoreTest | undefined): Promise<string | undefined> {
  if (src.includes('\\')) return undefined;
  // A symlink (the source or on its way) is followed inside the context: the checksum is its target's.
  const abs = resolved(contextDir, src);
  const st = abs === undefined ? undefined : await lstat(abs).catch(() => undefined);
  if (!st || !(st.isFile() || st.isDirectory())) return undefined;
  const followed = path.relative(contextDir, abs!) !== src.slice(1);
  // Not named: a symlink to the context's root, or one under a .dockerignore (the client sends what it excludes differently).
  if (followed && (abs === contextDir || ignore)) return undefined;
  const kept = ignore && st.isDirectory() ? { rel: src.slice(1), ...keptBy(ignore) } : undefined;
  return treeChecksum(abs!, src === '/', kept);
}

/** A flattened entry: its path in the context and its checksum. */
interface Flat {
  path: string;
  checksum: string;
}

/** A wildcard matching nothing (BuildKit's AllowEmptyWildcard): the empty file list's checksum. */
export const EMPTY_WILDCARD = sha256('');

/**
 * A wildcard source: its components up to the first with a wildcard are a
 * directory (symlinks followed), the rest matched component by component
 * (Go's path.Match: `*` never crosses "/") against the tree under it, where
 * BuildKit's contenthash walks its records: a symlinked directory is not
 * descended (kiln's COPY would follow it: not named). A matched symlink is
 * followed (its target's whole checksum). Undefined when not computed.
 */
async function wildcardChecksum(contextDir: string, pattern: string, kept?: ReturnType<typeof keptBy>): Promise<string | undefined> {
  if (pattern.includes('\\')) return undefined;
  const comps = pattern.split('/').filter((c) => c !== '');
  const first = comps.findIndex(hasWildcard);
  const res = comps.slice(first).map((c) => (/\[[^\]]*$/.test(c) ? undefined : componentPattern(c)));
  if (res.some((r) => r === undefined)) return undefined; // Go's path.Match fails on an unclosed class
  const prefix = first > 0 ? '/' + comps.slice(0, first).join('/') : '';
  const base = resolved(contextDir, prefix || '/');
  const baseSt = base === undefined ? undefined : await lstat(base).catch(() => undefined);
  const flat: Flat[] = [];
  const walk = async (dirAbs: string, rel: string, depth: number): Promise<boolean> => {
    for (const name of await readdir(dirAbs)) {
      if (!res[depth]!.test(name)) continue;
      const abs = path.join(dirAbs, name);
      const p = `${rel}/${name}`;
      const st = await lstat(abs);
      if (!(await isSent(abs, p.slice(1), st.isDirectory(), kept))) continue;
      if (depth < res.length - 1) {
        if (st.isDirectory()) {
          if (!(await walk(abs, p, depth + 1))) return false;
        } else if (st.isSymbolicLink() && (await stat(abs).catch(() => undefined))?.isDirectory()) return false;
        continue;
      }
      if (st.isFile()) {
        const sum = await treeChecksum(abs);
        if (sum === undefined) return false;
        flat.push({ path: p, checksum: sum });
      } else if (st.isDirectory()) {
        if (!(await flatten(abs, p, st.mode, flat, kept))) return false;
      } else if (st.isSymbolicLink()) {
        if (kept) return false; // what the client sends for its target: not computed
        const target = resolved(contextDir, p);
        if (target === undefined || target === contextDir) return false;
        const sum = await treeChecksum(target);
        if (sum === undefined) return false;
        flat.push({ path: p, checksum: sum });
      } else return false; // a socket or device
    }
    return true;
  };
  // Under a .dockerignore the prefix must be where it is (no symlink on the way).
  if (kept && base !== path.join(contextDir, prefix || '/').replace(/(.)\/+$/, '$1')) return undefined;
  if (baseSt?.isDirectory() && !(await walk(base!, prefix, 0))) return undefined;
  if (flat.length === 0) return EMPTY_WILDCARD;
  const key = (p: string) => p.slice(prefix.length).replaceAll('/', '\0');
  flat.sort((a, b) => byBytes(key(a.path), key(b.path)));
  if (flat.length === 1 && path.posix.basename(flat[0]!.path) === comps[comps.length - 1]) return flat[0]!.checksum;
  const h = createHash('sha256');
  for (const f of flat) h.update(key(f.path) || '\0').update(f.checksum);
  return `sha256:${h.digest('hex')}`;
}

/** A matched directory: its header, then every entry under it (directories as headers). */
async function flatten(abs: string, p: string, mode: number, flat: Flat[], kept?: ReturnType<typeof keptBy>): Promise<boolean> {
  flat.push({ path: p, checksum: sha256(entryHeader({ mode, size: 0, typeflag: '5' })) });
  for (const name of await readdir(abs)) {
    const child = `${p}/${name}`;
    const st = await lstat(path.join(abs, name));
    if (!(await isSent(path.join(abs, name), child.slice(1), st.isDirectory(), kept))) continue;
    if (st.isDirectory()) {
      if (!(await flatten(path.join(abs, name), child, st.mode, flat, kept))) return false;
      continue;
    }
    const sum = await treeChecksum(path.join(abs, name));
    if (sum === undefined) return false;
    flat.push({ path: child, checksum: sum });
  }
  return true;
}
