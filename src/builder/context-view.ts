/**
 * The context as a RUN bind mount sees it: without what .dockerignore
 * excludes. A directory that holds nothing ignored is bound as it is; one that
 * does is given as a copy of what is kept (files, directories, symlinks as
 * links, with owners, modes and times), so an ignored file is not in the
 * build's view at all, as with COPY.
 */
import { chmodSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { IgnoreMatcher } from '../dockerfile/index.js';
import { walkMatch } from './sources.js';

/** Does the context directory `abs` (at slash path `rel` in the context) hold anything `ignore` excludes? */
export function holdsIgnored(abs: string, rel: string, ignore: IgnoreMatcher): boolean {
  for (const name of readdirSync(abs)) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (ignore.excludes(childRel)) return true;
    const child = path.join(abs, name);
    if (lstatSync(child).isDirectory() && holdsIgnored(child, childRel, ignore)) return true;
  }
  return false;
}

function copyEntry(from: string, to: string, st: Stats): void {
  if (st.isDirectory()) mkdirSync(to, { recursive: true });
  else if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (st.isFile()) copyFileSync(from, to);
  else return; // fifos and sockets are not part of a view
  lchownSync(to, st.uid, st.gid);
  if (st.isSymbolicLink()) return lutimesSync(to, st.atime, st.mtime);
  chmodSync(to, st.mode & 0o7777);
  if (!st.isDirectory()) utimesSync(to, st.atime, st.mtime);
}

/** Copies the context directory `abs` (at `rel`) to `dest`, leaving out what `ignore` excludes. */
export function copyKept(contextDir: string, abs: string, rel: string, ignore: IgnoreMatcher, dest: string): void {
  const top = lstatSync(abs);
  mkdirSync(dest, { recursive: true });
  const dirs: { to: string; st: Stats }[] = [{ to: dest, st: top }];
  for (const e of walkMatch({ dir: contextDir, ignore, what: 'build context' }, { rel, abs, st: top, real: rel })) {
    const to = path.join(dest, e.rel);
    mkdirSync(path.dirname(to), { recursive: true }); // kept by an exception under an ignored directory
    copyEntry(e.abs, to, e.st);
    if (e.st.isDirectory()) dirs.push({ to, st: e.st });
  }
  for (const { to, st } of dirs.reverse()) {
    chmodSync(to, st.mode & 0o7777);
    lchownSync(to, st.uid, st.gid);
    utimesSync(to, st.atime, st.mtime);
  }
}
