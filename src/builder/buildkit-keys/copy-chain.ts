/**
 * BuildKit's op for a plain `COPY <src> <dest>` from the build context: one
 * regular file or one directory (`COPY src/ /app/`, `COPY . /app`; no wildcard,
 * symlink source, heredoc, --from or flag). Its record links the state before
 * (no selector) and the root record of the content checksum (keys.ts
 * contentRecord, tree-checksum.ts), so the bytes and modes decide it, never
 * times or owners.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { CopyInstruction } from '../../dockerfile/index.js';
import { contentRecord, copyDigest, rootKey } from './keys.js';
import { treeChecksum } from './tree-checksum.js';
import type { BuildkitOp } from './step.js';

/** `p` against `cwd` as BuildKit's NormalizePath with keepSlash: joined, cleaned, a trailing "/" kept. */
export function resolveDest(cwd: string, p: string): string {
  if (p === '.' || p === '') p = './';
  let out = p.startsWith('/') ? path.posix.join('/', p) : path.posix.join(cwd || '/', p);
  if (p.endsWith('/') && !out.endsWith('/')) out += '/';
  else if (p.endsWith('/.')) out = (out === '/' ? '/' : out + '/') + '.';
  return out;
}

/** `ignoring`: the build has a .dockerignore (BuildKit then hashes a directory without what it leaves out: not computed). */
export async function copyOp(inst: CopyInstruction, contextDir: string, cwd: string, ignoring = false): Promise<BuildkitOp | undefined> {
  if (inst.kind !== 'copy' || inst.from !== undefined || inst.chown || inst.chmod || inst.link || inst.parents || inst.exclude.length > 0) return undefined;
  const only = inst.sources.length === 1 ? inst.sources[0] : undefined;
  if (only?.kind !== 'path' || /[*?[\\]/.test(only.path)) return undefined;
  const src = path.posix.join('/', only.path);
  const abs = path.join(contextDir, src);
  const st = await lstat(abs).catch(() => undefined);
  if (!st || !(st.isFile() || (st.isDirectory() && !ignoring))) return undefined;
  if (st.isFile() && only.path.endsWith('/')) return undefined;
  const checksum = await treeChecksum(abs, src === '/');
  if (checksum === undefined) return undefined;
  // The action's src is Go's path.Base of the source: "src" for "/src/", "/" for the context's root.
  const record = rootKey(copyDigest({ src: src === '/' ? '/' : path.posix.basename(src), dest: resolveDest(cwd, inst.dest) }), 0);
  return { record, content: contentRecord([checksum]) };
}
