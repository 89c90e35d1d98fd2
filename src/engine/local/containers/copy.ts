/**
 * `kiln cp` on a running container, as docker: its filesystem is reached at
 * /proc/PID/root (the root and its mounts, volumes included), every path is
 * resolved with the container's root as `/` (symlinks never lead out), and
 * the container is paused while kiln copies (as docker does) so it cannot
 * swap a directory for a symlink mid-copy. Copies out keep symlinks as links;
 * copies in are extracted as a plain tar inside the destination directory,
 * owned by root (docker's default without -a).
 */
import { cp, lstat, readdir, readlink, stat } from 'node:fs/promises';
import { createReadStream, type Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { invalidArgument, isErrno, notFound } from '../../../errors.js';
import { extractLayer } from '../../../layer/extract.js';
import { resolveInRoot } from '../../../layer/tar.js';

const comps = (p: string) => p.split('/').filter((c) => c !== '' && c !== '.');

async function statOrUndefined(p: string, follow = false): Promise<Stats | undefined> {
  try {
    return await (follow ? stat(p) : lstat(p));
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Copies SRC (a path in the container) to DEST on the host; resolves to the bytes of regular files copied. */
export async function copyOut(root: string, name: string, src: string, dest: string): Promise<number> {
  const from = resolveInRoot(root, comps(src), { followLast: src.endsWith('/') || src.endsWith('/.') });
  const st = await statOrUndefined(from, from === root); // the root is /proc/PID/root, a link to follow
  if (!st) throw notFound(`no such file or directory in container ${name}: ${src}`, { hint: `kiln exec ${name} ls -l ${path.posix.dirname(src) || '/'} shows what is there` });
  const destSt = await statOrUndefined(dest, true);
  let target = dest;
  if (destSt?.isDirectory()) target = path.join(dest, path.basename(from) === path.basename(root) ? path.basename(src) : path.basename(from));
  else if (dest.endsWith('/')) throw notFound(`no such directory: ${dest}`, { hint: 'create it first, or name the file to write' });
  else if (destSt && st.isDirectory()) throw invalidArgument(`cannot copy a directory to a file: ${src} to ${dest}`, { hint: 'name a directory as the destination' });
  else if (!(await statOrUndefined(path.dirname(path.resolve(dest)), true))?.isDirectory()) throw notFound(`no such directory: ${path.dirname(path.resolve(dest))}`, { hint: 'create it first' });
  await cp(from, target, { recursive: true, verbatimSymlinks: true, force: true, preserveTimestamps: true });
  return sizeOf(target);
}

async function sizeOf(p: string): Promise<number> {
  const st = await lstat(p);
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let n = 0;
  for (const e of await readdir(p)) n += await sizeOf(path.join(p, e));
  return n;
}

/** A tar of the host path SRC whose top entry is NAME (directories recursively, symlinks as links), streamed. */
function tarOf(src: string, name: string): Readable {
  const pack = tar.pack();
  const add = (h: Partial<tar.Header> & { name: string }, body?: Readable) =>
    new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (!body) return void pack.entry(h, '', done);
      body.on('error', reject).pipe(pack.entry(h, done));
    });
  const walk = async (host: string, rel: string): Promise<void> => {
    const st = await lstat(host);
    const base = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      await add({ ...base, type: 'directory' });
      for (const e of (await readdir(host)).sort()) await walk(path.join(host, e), `${rel}/${e}`);
    } else if (st.isSymbolicLink()) await add({ ...base, type: 'symlink', linkname: await readlink(host) });
    else if (st.isFile()) await add({ ...base, type: 'file', size: st.size }, createReadStream(host));
    // sockets, fifos and devices are left out, as docker cp does not make them either
  };
  walk(src, name).then(() => pack.finalize(), (e: unknown) => pack.destroy(e as Error));
  return pack as unknown as Readable;
}

/** Copies SRC on the host into the container at DEST; resolves to the bytes of regular files copied. */
export async function copyIn(root: string, name: string, src: string, dest: string): Promise<number> {
  const srcSt = await statOrUndefined(src);
  if (!srcSt) throw notFound(`no such file or directory: ${src}`, { hint: 'check the path on this machine' });
  const want = comps(dest);
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
  const r = await extractLayer(tarOf(src, entry), dir, { whiteouts: 'none', sameOwner: false, allowDevices: false });
  return r.bytes;
}
