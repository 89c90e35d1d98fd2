/**
 * Safe extraction of an (uncompressed) layer tar stream into a directory, per
 * the OCI layer spec: whiteouts delete lower entries, opaque whiteouts empty a
 * directory; files, dirs, symlinks, hardlinks, fifos, devices (when allowed)
 * with modes, owners (as root), mtimes and PAX xattrs. Nothing is ever
 * written outside `root`: parents are resolved inside it (see resolveInRoot).
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  createWriteStream,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract, type Header } from 'tar-stream';
import { dataLoss, internal, invalidArgument, isKilnError } from '../errors.js';
import { PaxScanner, type PaxRecords } from './pax.js';
import { OPAQUE_WHITEOUT, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, entryComponents, hostileWhiteout, resolveInRoot } from './tar.js';
import { setXattr } from './xattr.js';

export interface ExtractOptions {
  /** Create character and block devices (needs root); otherwise they are skipped and listed. */
  allowDevices?: boolean;
  /** Set owners from the tar (default: when running as root). */
  sameOwner?: boolean;
  /** Apply `SCHILY.xattr.*` PAX records (default true). */
  xattrs?: boolean;
  /**
   * `apply` (default): whiteouts delete what lower layers put in `root`.
   * `overlay`: `root` holds this layer alone, as an overlayfs lower dir —
   * whiteouts become 0:0 character devices and opaque markers the
   * `trusted.overlay.opaque=y` attribute (needs root).
   * `none`: a plain tar (a build context, an archive ADD extracts), not a
   * layer: `.wh.` names are ordinary files, as in BuildKit.
   * In the layer modes a whiteout may only remove a name inside the directory
   * that holds it: `.wh.`, `.wh..`, `.wh...` (anywhere in a path) are refused.
   */
  whiteouts?: 'apply' | 'overlay' | 'none';
  /** Paths under `root` that must survive the layer (an in-place root's own files and mounts). */
  guard?: ExtractGuard;
}

/** What extraction must leave alone: `check(abs)` for a path at or under a kept one, `holds(abs)` for a dir with one inside. */
export interface ExtractGuard {
  /** `refuse`: the layer is hostile (kiln's own files); `skip`: quietly not written (a mount, /proc). */
  check(abs: string): 'refuse' | 'skip' | undefined;
  holds(abs: string): boolean;
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

/** tar-stream's own errors (bad checksum, truncation) become DATA_LOSS naming the layer's target. */
function corrupt(e: unknown, root: string): unknown {
  if (isKilnError(e) || (e as NodeJS.ErrnoException).code !== undefined) return e;
  return dataLoss(`layer being extracted into ${root} is not a valid tar: ${(e as Error).message}`, {
    hint: 'the blob is corrupt or was not decompressed',
    cause: e,
  });
}

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

/** Entries up to this size are gathered in memory and written with one call. */
const SMALL_FILE = 1 << 20;

async function readSmall(body: Readable, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks, size);
}

/**
 * Extracts `tar` (uncompressed) into `root`, applying whiteouts against what is
 * already there. Metadata calls are synchronous (page-cache fast); large file
 * contents are streamed.
 */
export async function extractLayer(tar: Readable, root: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const sameOwner = opts.sameOwner ?? process.getuid?.() === 0;
  const result: ExtractResult = { entries: 0, bytes: 0, whiteouts: 0, skipped: [] };
  const created = new Set<string>(); // host paths this layer made: whiteouts only hide lower layers
  const dirs: { target: string; mode: number; mtime: number }[] = [];
  const parents = new Map<string, string>(); // entry parent path → resolved host dir; cleared on any removal
  mkdirSync(root, { recursive: true });
  const rootAbs = path.resolve(root);
  const layer = opts.whiteouts !== 'none';

  const guard = opts.guard;
  const removeKeeping = (target: string): void => {
    if (guard?.check(target)) return;
    if (guard?.holds(target) && lstatSync(target, { throwIfNoEntry: false })?.isDirectory()) {
      for (const child of readdirSync(target)) removeKeeping(path.join(target, child));
      return;
    }
    rmSync(target, { recursive: true, force: true }); // never follows symlinks
  };
  const remove = (target: string): void => {
    removeKeeping(target);
    parents.clear();
  };
  const removeLower = (target: string): void => {
    if (!created.has(target)) remove(target);
  };

  const meta = async (target: string, h: Header, pax: PaxRecords | undefined): Promise<void> => {
    const num = (key: string, fallback: number): number => {
      const v = pax?.get(key);
      return v === undefined ? fallback : Number(v.toString('latin1'));
    };
    if (sameOwner) lchownSync(target, num('uid', h.uid), num('gid', h.gid));
    if (opts.xattrs !== false && pax) {
      for (const [k, v] of pax) if (k.startsWith(XATTR_PREFIX)) await setXattr(target, k.slice(XATTR_PREFIX.length), v);
    }
    const mtime = num('mtime', h.mtime.getTime() / 1000);
    if (h.type === 'directory') {
      dirs.push({ target, mode: h.mode, mtime }); // mode and times after the children are written
      return;
    }
    if (h.type === 'symlink') return lutimesSync(target, mtime, mtime);
    chmodSync(target, h.mode & 0o7777);
    utimesSync(target, mtime, mtime);
  };

  const resolveParent = (comps: string[]): string => {
    const key = comps.slice(0, -1).join('/');
    let dir = parents.get(key);
    if (dir === undefined) {
      dir = resolveInRoot(rootAbs, comps.slice(0, -1), { followLast: true, mkdirs: true });
      parents.set(key, dir);
    }
    return dir;
  };

  const handle = async (h: Header, body: Readable, pax: PaxRecords | undefined): Promise<void> => {
    result.entries++;
    const comps = entryComponents(h.name);
    if (comps.length === 0) return; // the root itself ("./")
    if (layer) {
      for (const c of comps) {
        const why = hostileWhiteout(c);
        if (why) hostile(h, why);
      }
    }
    const base = comps[comps.length - 1]!;
    const parent = resolveParent(comps);
    const target = path.join(parent, base);
    const kept = guard?.check(target);
    if (kept === 'refuse') hostile(h, `it would write over kiln's own files (${target})`);
    if (kept === 'skip') return;

    if (layer && base.startsWith(WHITEOUT_PREFIX)) {
      result.whiteouts++;
      if (opts.whiteouts === 'overlay') {
        if (base === OPAQUE_WHITEOUT) await setXattr(parent, 'trusted.overlay.opaque', Buffer.from('y'));
        else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
          const hidden = path.join(parent, base.slice(WHITEOUT_PREFIX.length));
          if (!lstatSync(hidden, { throwIfNoEntry: false })) await mknod(hidden, ['c', '0', '0']);
        }
        return;
      }
      if (base === OPAQUE_WHITEOUT) {
        for (const child of readdirSync(parent)) removeLower(path.join(parent, child));
      } else if (!base.startsWith(WHITEOUT_META_PREFIX)) {
        removeLower(path.join(parent, base.slice(WHITEOUT_PREFIX.length)));
      }
      return;
    }

    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing && !(existing.isDirectory() && h.type === 'directory')) {
      if (guard?.holds(target)) hostile(h, `it would replace ${target}, which holds kiln's own files or a mount`);
      remove(target);
    }

    switch (h.type) {
      case 'directory':
        if (!existing?.isDirectory()) mkdirSync(target, { mode: 0o700 });
        break;
      case 'file':
      case 'contiguous-file':
        // 'wx' is O_CREAT|O_EXCL: never follows a symlink that appeared meanwhile
        if (h.size <= SMALL_FILE) writeFileSync(target, await readSmall(body, h.size), { flag: 'wx', mode: 0o600 });
        else await pipeline(body, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
        result.bytes += h.size;
        break;
      case 'symlink':
        symlinkSync(h.linkname, target);
        break;
      case 'link': {
        const lc = entryComponents(h.linkname, `tar entry "${h.name}": hardlink target "${h.linkname}"`);
        if (lc.length === 0) hostile(h, `hardlink to the root directory`);
        const src = resolveInRoot(rootAbs, lc, { followLast: false });
        const st = lstatSync(src, { throwIfNoEntry: false });
        if (!st) hostile(h, `hardlink target "${h.linkname}" does not exist in the layer or below`);
        if (st.isDirectory()) hostile(h, `hardlink target "${h.linkname}" is a directory`);
        if (guard?.check(src)) hostile(h, `hardlink to kiln's own files or a mount (${src})`);
        linkSync(src, target);
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
    await meta(target, h, pax);
  };

  const scanner = new PaxScanner();
  const ex = tarExtract();
  const feeding = pipeline(tar, scanner, ex as unknown as NodeJS.WritableStream);
  let index = 0;
  try {
    for await (const entry of ex) {
      await handle(entry.header, entry as unknown as Readable, scanner.recordsFor(index++));
      entry.resume(); // drain what was not read (directories, links, skipped)
    }
    await feeding;
  } catch (e) {
    tar.destroy();
    ex.destroy();
    await feeding.then(noop, noop); // its failure is a consequence of e, which is thrown
    throw corrupt(e, root);
  }

  for (const { target, mode, mtime } of dirs.reverse()) {
    chmodSync(target, mode & 0o7777);
    utimesSync(target, mtime, mtime);
  }
  return result;
}

/** Removes `root/rel` if it exists (a helper for callers applying deletions outside a tar). */
export function removeInRoot(root: string, rel: string): void {
  const comps = entryComponents(rel);
  if (comps.length === 0) throw invalidArgument(`refusing to remove the root directory ${root}`);
  const target = resolveInRoot(path.resolve(root), comps, { followLast: false });
  rmSync(target, { recursive: true, force: true });
}
