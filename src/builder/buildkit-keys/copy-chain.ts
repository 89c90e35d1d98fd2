/**
 * BuildKit's op for a plain `COPY <file> <dest>` from the build
 * context: one regular file (no wildcard, directory, symlink, heredoc, --from
 * or flag). Its record links the state before (no selector) and the root
 * record of the content checksum (keys.ts contentRecord), so the file's bytes,
 * mode and owner decide it, never its time.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { CopyInstruction } from '../../dockerfile/index.js';
import { contentRecord, copyDigest, fileHeader, rootKey } from './keys.js';
import type { BuildkitOp } from './step.js';

/** `p` against `cwd` as BuildKit's NormalizePath with keepSlash: joined, cleaned, a trailing "/" kept. */
export function resolveDest(cwd: string, p: string): string {
  if (p === '.' || p === '') p = './';
  let out = p.startsWith('/') ? path.posix.join('/', p) : path.posix.join(cwd || '/', p);
  if (p.endsWith('/') && !out.endsWith('/')) out += '/';
  else if (p.endsWith('/.')) out = (out === '/' ? '/' : out + '/') + '.';
  return out;
}

export async function copyOp(inst: CopyInstruction, contextDir: string, cwd: string): Promise<BuildkitOp | undefined> {
  if (inst.kind !== 'copy' || inst.from !== undefined || inst.chown || inst.chmod || inst.link || inst.parents || inst.exclude.length > 0) return undefined;
  const only = inst.sources.length === 1 ? inst.sources[0] : undefined;
  if (only?.kind !== 'path' || /[*?[\\]/.test(only.path)) return undefined;
  const src = path.posix.join('/', only.path);
  if (src === '/' || only.path.endsWith('/')) return undefined;
  const file = path.join(contextDir, src);
  const st = await lstat(file).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const h = createHash('sha256').update(fileHeader({ mode: st.mode, uid: st.uid, gid: st.gid, size: st.size }));
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  const checksum = `sha256:${h.digest('hex')}`;
  const record = rootKey(copyDigest({ src: path.posix.basename(src), dest: resolveDest(cwd, inst.dest) }), 0);
  return { record, content: contentRecord([checksum]) };
}
