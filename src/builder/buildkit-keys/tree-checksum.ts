/**
 * BuildKit's content checksum (cache/contenthash) of a path of the build
 * context as BuildKit's client sends it, measured against buildkitd v0.34.2
 * (cache-debug.db, keys.test.ts):
 *
 *   file      sha256(header + bytes)      header = tar fields, name empty (keys.ts fileHeader), typeflag 0
 *   symlink   sha256(header)              typeflag 2, mode 0777, linkname = the target, size 0
 *   directory sha256("\0" + <its header's checksum> + for each entry in byte order of its name:
 *                    "\0" + name + <the entry's checksum>)        header: typeflag 5, size 0
 *   the context's root: as a directory, its header's checksum being sha256("") (BuildKit fakes it)
 *
 * The client sends every entry owned by 0:0 (BuildKit's client resets uid and
 * gid), so the owner on disk never enters. Anything else (a socket, a device, a
 * fifo) gives undefined: kiln does not name such a step. Files are streamed.
 * With a .dockerignore, the client leaves out what it excludes: `kept` says
 * which context paths (slash, relative to the context) remain; with `!`
 * exceptions an excluded directory holding a kept path is sent (measured).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { fileHeader, sha256 } from './keys.js';

/** The header checksum part for an entry: mode bits, the type flag, a symlink's target. */
export function entryHeader(e: { mode: number; size: number; typeflag: '0' | '2' | '5'; linkname?: string }): string {
  return fileHeader({ mode: e.mode, uid: 0, gid: 0, size: e.size }).replace('typeflag0linkname', `typeflag${e.typeflag}linkname${e.linkname ?? ''}`);
}

/** A directory's checksum from its header's checksum and its entries' (name, checksum), in any order. */
export function dirChecksum(headerChecksum: string, entries: { name: string; checksum: string }[]): string {
  const h = createHash('sha256').update('\0').update(headerChecksum);
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (const e of sorted) h.update('\0').update(e.name).update(e.checksum);
  return `sha256:${h.digest('hex')}`;
}

/** The checksum of the context's root directory (`COPY . <dest>`). */
export const ROOT_HEADER = sha256('');

/** A .dockerignore's test (dockerfile/ IgnoreMatcher): a context path (slash, relative) it excludes. */
export interface IgnoreTest {
  hasExceptions: boolean;
  excludes(rel: string): boolean;
}

/** The entries of a directory the client sends: `rel` is the directory's context path, `excludes` the .dockerignore's test. */
export interface Kept {
  rel: string;
  excludes(rel: string): boolean;
  /** The .dockerignore has `!` exceptions: an excluded directory is still sent, with its own header, when it holds a path that is not excluded. */
  exceptions?: boolean;
}

/** Does the directory `abs` (context path `rel`) hold a path `excludes` keeps? */
async function keepsSome(abs: string, rel: string, excludes: (rel: string) => boolean): Promise<boolean> {
  for (const e of await readdir(abs, { withFileTypes: true })) {
    const r = `${rel}/${e.name}`;
    if (!excludes(r) || (e.isDirectory() && (await keepsSome(path.join(abs, e.name), r, excludes)))) return true;
  }
  return false;
}

/** Does the client send `abs` (context path `rel`) under `kept`'s .dockerignore: not excluded, or a directory holding a path an exception keeps. */
export async function isSent(abs: string, rel: string, isDir: boolean, kept: Pick<Kept, 'excludes' | 'exceptions'> | undefined): Promise<boolean> {
  if (!kept || !kept.excludes(rel)) return true;
  return kept.exceptions === true && isDir && (await keepsSome(abs, rel, kept.excludes));
}

/**
 * The content checksum of `abs` (a file, symlink or directory, not followed),
 * or undefined when it holds anything else. `root` marks the context's root.
 */
export async function treeChecksum(abs: string, root = false, kept?: Kept): Promise<string | undefined> {
  const st = await lstat(abs).catch(() => undefined);
  if (!st) return undefined;
  if (st.isFile()) {
    const h = createHash('sha256').update(entryHeader({ mode: st.mode, size: st.size, typeflag: '0' }));
    for await (const chunk of createReadStream(abs)) h.update(chunk as Buffer);
    return `sha256:${h.digest('hex')}`;
  }
  if (st.isSymbolicLink()) return sha256(entryHeader({ mode: 0o777, size: 0, typeflag: '2', linkname: await readlink(abs) }));
  if (!st.isDirectory()) return undefined;
  const header = root ? ROOT_HEADER : sha256(entryHeader({ mode: st.mode, size: 0, typeflag: '5' }));
  const entries: { name: string; checksum: string }[] = [];
  for (const name of (await readdir(abs)).sort()) {
    const rel = kept && (kept.rel ? `${kept.rel}/${name}` : name);
    if (kept && kept.excludes(rel!)) {
      const st = kept.exceptions ? await lstat(path.join(abs, name)) : undefined;
      if (!(await isSent(path.join(abs, name), rel!, st?.isDirectory() === true, kept))) continue;
    }
    const checksum = await treeChecksum(path.join(abs, name), false, kept && { ...kept, rel: rel! });
    if (checksum === undefined) return undefined;
    entries.push({ name, checksum });
  }
  return dirChecksum(header, entries);
}
