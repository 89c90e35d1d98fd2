/**
 * `kiln cp` on a running container, as docker: its filesystem is reached at
 * /proc/PID/root (the root and its mounts, volumes included), every path is
 * resolved with the container's root as `/` (symlinks never lead out), and
 * the container is paused while kiln copies (as docker does) so it cannot
 * swap a directory for a symlink mid-copy. Copies out keep symlinks as links;
 * copies in are extracted as a plain tar inside the destination directory,
 * owned by root (docker's default without -a; with -a the source's uid/gid
 * are kept). `-L` follows SRC when it is a symlink (the copy keeps the link's
 * name, as docker). A `-` side is a tar stream, as docker's: out, the tar of
 * SRC with the container's owners and modes, its top entry named after the
 * resolved path; in, a tar extracted into an existing directory, its entries
 * resolved inside it (`..` out of it is refused, as in layers).
 */
import { cp, lchown, lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalidArgument, isErrno, notFound } from '../../../errors.js';
import { extractLayer } from '../../../layer/extract.js';
import { resolveInRoot } from '../../../layer/tar.js';
import type { CopyFlags } from '../../containers.js';
import { tarOf } from './tar-of.js';

const comps = (p: string) => p.split('/').filter((c) => c !== '' && c !== '.');

async function statOrUndefined(p: string, follow = false): Promise<Stats | undefined> {
  try {
    return await (follow ? stat(p) : lstat(p));
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Copies SRC (a path in the container) to DEST on the host, or as a tar to a stream; resolves to the bytes of regular files copied. */
export async function copyOut(root: string, name: string, src: string, dest: string | Writable, flags: CopyFlags = {}): Promise<number> {
  const want = comps(src);
  const from = resolveInRoot(root, want, { followLast: !!flags.followLink || src.endsWith('/') || src.endsWith('/.') });
  const st = await statOrUndefined(from, from === root); // the root is /proc/PID/root, a link to follow
  if (!st) throw notFound(`no such file or directory in container ${name}: ${src}`, { hint: `kiln exec ${name} ls -l ${path.posix.dirname(src) || '/'} shows what is there` });
  if (typeof dest !== 'string') {
    // docker's archive: named after the resolved path ("." for DIR/. and /), owners and modes as in the container.
    const top = from === root || src.endsWith('/.') ? '.' : path.basename(from);
    await pipeline(tarOf(from, top, { owners: true, followTop: from === root }), dest);
    return 0; // nothing is printed for a stream (docker's `-`): no second walk to count it
  }
  const destSt = await statOrUndefined(dest, true);
  let target = dest;
  const own = from === root ? path.basename(src) : flags.followLink && want.length > 0 ? want.at(-1)! : path.basename(from);
  if (destSt?.isDirectory()) target = path.join(dest, own);
  else if (dest.endsWith('/')) throw notFound(`no such directory: ${dest}`, { hint: 'create it first, or name the file to write' });
  else if (destSt && st.isDirectory()) throw invalidArgument(`cannot copy a directory to a file: ${src} to ${dest}`, { hint: 'name a directory as the destination' });
  else if (!(await statOrUndefined(path.dirname(path.resolve(dest)), true))?.isDirectory()) throw notFound(`no such directory: ${path.dirname(path.resolve(dest))}`, { hint: 'create it first' });
  await cp(from, target, { recursive: true, verbatimSymlinks: true, force: true, preserveTimestamps: true });
  if (flags.archive) await ownersLike(from, target, from === root);
  return sizeOf(target);
}

/** `-a` out: each copied entry gets its source's uid/gid. */
async function ownersLike(from: string, to: string, follow = false): Promise<void> {
  const st = await (follow ? stat(from) : lstat(from));
  await lchown(to, st.uid, st.gid);
  if (st.isDirectory()) for (const e of await readdir(to)) await ownersLike(path.join(from, e), path.join(to, e));
}

async function sizeOf(p: string): Promise<number> {
  const st = await lstat(p);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let n = 0;
  for (const e of await readdir(p)) n += await sizeOf(path.join(p, e));
  return n;
}

/** Copies SRC on the host (or a tar stream) into the container at DEST; resolves to the bytes of regular files copied. */
export async function copyIn(root: string, name: string, src: string | Readable, dest: string, flags: CopyFlags = {}): Promise<number> {
  const want = comps(dest);
  const extract = (tar: Readable, dir: string) => extractLayer(tar, dir, { whiteouts: 'none', sameOwner: !!flags.archive, allowDevices: false }).then((r) => r.bytes);
  if (typeof src !== 'string') {
    const dir = resolveInRoot(root, want, { followLast: true });
    const there = await statOrUndefined(dir, dir === root);
    // docker's message for both a missing destination and a file
    if (!there?.isDirectory()) throw invalidArgument(`destination "${name}:${dest}" must be a directory`, { hint: 'a tar on standard input is extracted into an existing directory' });
    return extract(src, dir);
  }
  const srcSt = await statOrUndefined(src, !!flags.followLink);
  if (!srcSt) throw notFound(`no such file or directory: ${src}`, { hint: 'check the path on this machine' });
  const resolved = resolveInRoot(root, want, { followLast: true });
  const there = await statOrUndefined(resolved, resolved === root);
  let dir: string;
  let entry: string;
  if (there?.isDirectory()) [dir, entry] = [resolved, path.basename(path.resolve(src))];
  else if (dest.endsWith('/') || want.length === 0) throw notFound(`no such directory in container ${name}: ${dest}`, { hint: `kiln exec ${name} mkdir -p ${dest}` });
  else if (there && srcSt.isDirectory()) throw invalidArgument(`cannot copy a directory to a file: ${src} to ${name}:${dest}`, { hint: 'name a directory as the destination' });
  else {
    dir = resolveInRoot(root, want.slice(0, -1), { followLast: true });
    if (!(await statOrUndefined(dir, dir === root))?.isDirectory()) throw notFound(`no such directory in container ${name}: ${path.posix.dirname(dest)}`, { hint: `kiln exec ${name} mkdir -p ${path.posix.dirname(dest)}` });
    entry = want.at(-1)!;
  }
  return extract(tarOf(src, entry, { owners: !!flags.archive, followTop: !!flags.followLink }), dir);
}
