/**
 * Safe extraction of an (uncompressed) layer tar stream into a directory, per
 * the OCI layer spec: whiteouts delete lower entries, opaque whiteouts empty a
 * directory; files, dirs, symlinks, hardlinks, fifos, devices (when allowed)
 * with modes, owners (as root), mtimes and PAX xattrs. Nothing is ever
 * written outside `root`: parents are resolved inside it (see resolveInRoot).
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, readdir, rm, symlink, unlink, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';
import { internal, invalidArgument, isErrno } from '../errors.js';
import { OPAQUE_WHITEOUT, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, entryComponents, resolveInRoot } from './tar.js';
import { setXattr } from './xattr.js';

export interface ExtractOptions {
  /** Create character and block devices (needs root); otherwise they are skipped and listed. */
  allowDevices?: boolean;
  /** Set owners from the tar (default: when running as root). */
  sameOwner?: boolean;
  /** Apply `SCHILY.xattr.*` PAX records (default true). */
  xattrs?: boolean;
}

export interface ExtractResult {
  /** Tar entries read, whiteouts included. */
  entries: number;
  /** Bytes of regular file content written. */
  bytes: number;
  whiteouts: number;
  /** Entries not created (device nodes without allowDevices), by name. */
  skipped: string[];
}

const noop = (): void => undefined;
const XATTR_PREFIX = 'SCHILY.xattr.';

function hostile(h: Header, why: string): never {
  throw invalidArgument(`tar entry "${h.name}": ${why}`, { hint: 'the layer is malformed or hostile; do not use it' });
}

function mknod(target: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('mknod', [target, ...args], (err, _o, stderr) =>
      err ? reject(internal(`mknod ${target} ${args.join(' ')}: ${String(stderr).trim() || err.message}`, { cause: err })) : resolve(),
    ),
  );
}

async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Extracts `tar` (uncompressed) into `root`, applying whiteouts against what is already there. */
export async function extractLayer(tar: Readable, root: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const sameOwner = opts.sameOwner ?? process.getuid?.() === 0;
  const result: ExtractResult = { entries: 0, bytes: 0, whiteouts: 0, skipped: [] };
  const created = new Set<string>(); // host paths this layer made: whiteouts only hide lower layers
  const dirs: { target: string; h: Header }[] = [];
  await mkdir(root, { recursive: true });
  const rootAbs = path.resolve(root);

  const removeLower = async (target: string): Promise<void> => {
    if (created.has(target)) return;
    await rm(target, { recursive: true, force: true }); // rm never follows symlinks
  };

  const meta = async (target: string, h: Header): Promise<void> => {
    if (sameOwner) await lchown(target, h.uid, h.gid);
    if (opts.xattrs !== false && h.pax) {
      for (const [k, v] of Object.entries(h.pax as Record<string, string>)) {
        if (k.startsWith(XATTR_PREFIX)) await setXattr(target, k.slice(XATTR_PREFIX.length), Buffer.from(v, 'utf8'));
      }
    }
    if (h.type === 'directory') {
      dirs.push({ target, h }); // mode and times after the children are written
      return;
    }
    if (h.type === 'symlink') return lutimes(target, h.mtime, h.mtime);
    await chmod(target, h.mode & 0o7777);
    await utimes(target, h.mtime, h.mtime);
  };

  const handle = async (h: Header, body: Readable): Promise<void> => {
    result.entries++;
    const comps = entryComponents(h.name);
    if (comps.length === 0) return; // the root itself ("./")
    const base = comps[comps.length - 1]!;
    const parent = await resolveInRoot(rootAbs, comps.slice(0, -1), { followLast: true, mkdirs: true });
    const target = path.join(parent, base);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      result.whiteouts++;
      if (base === OPAQUE_WHITEOUT) {
        for (const child of await readdir(parent)) await removeLower(path.join(parent, child));
      } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
        await removeLower(path.join(parent, base.slice(WHITEOUT_PREFIX.length)));
      }
      return;
    }

    const existing = await lstatOrUndefined(target);
    if (existing && !(existing.isDirectory() && h.type === 'directory')) await rm(target, { recursive: true, force: true });

    switch (h.type) {
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(target, { mode: 0o700 });
        break;
      case 'file':
      case 'contiguous-file':
        // 'wx' is O_CREAT|O_EXCL: never follows a symlink that appeared meanwhile
        await pipeline(body, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
        result.bytes += h.size;
        break;
      case 'symlink':
        await symlink(h.linkname, target);
        break;
      case 'link': {
        const lc = entryComponents(h.linkname, `tar entry "${h.name}": hardlink target "${h.linkname}"`);
        if (lc.length === 0) hostile(h, `hardlink to the root directory`);
        const src = await resolveInRoot(rootAbs, lc, { followLast: false });
        const st = await lstatOrUndefined(src);
        if (!st) hostile(h, `hardlink target "${h.linkname}" does not exist in the layer or below`);
        if (st.isDirectory()) hostile(h, `hardlink target "${h.linkname}" is a directory`);
        await link(src, target);
        created.add(target);
        return; // a hardlink shares the target's metadata
      }
      case 'fifo':
        await mknod(target, ['p']);
        break;
      case 'character-device':
      case 'block-device':
        if (!opts.allowDevices) {
          result.skipped.push(h.name);
          return;
        }
        await mknod(target, [h.type === 'block-device' ? 'b' : 'c', String(h.devmajor), String(h.devminor)]);
        break;
      default:
        hostile(h, `unsupported entry type ${JSON.stringify(h.type)}`);
    }
    created.add(target);
    await meta(target, h);
  };

  const ex = tarExtract();
  const feeding = pipeline(tar, ex as unknown as NodeJS.WritableStream);
  try {
    for await (const entry of ex) {
      await handle(entry.header, entry as unknown as Readable);
      entry.resume(); // drain what was not read (directories, links, skipped)
    }
  } catch (e) {
    tar.destroy();
    ex.destroy();
    await feeding.then(noop, noop); // its failure is a consequence of e, which is thrown
    throw e;
  }
  await feeding;

  for (const { target, h } of dirs.reverse()) {
    await chmod(target, h.mode & 0o7777);
    await utimes(target, h.mtime, h.mtime);
  }
  return result;
}

/** Removes `root/rel` if it exists (a helper for callers applying deletions outside a tar). */
export async function removeInRoot(root: string, rel: string): Promise<void> {
  const comps = entryComponents(rel);
  if (comps.length === 0) throw invalidArgument(`refusing to remove the root directory ${root}`);
  const target = await resolveInRoot(path.resolve(root), comps, { followLast: false });
  const st = await lstatOrUndefined(target);
  if (st) await (st.isDirectory() ? rm(target, { recursive: true }) : unlink(target));
}
