/**
 * The layered snapshotter: `layers/<chain-id hex>/fs` holds ONE layer,
 * unpacked once in overlayfs form (whiteouts as 0:0 character devices,
 * opaque directories marked with `trusted.overlay.opaque=y`), and
 * `layers/<hex>/parent` names the layer below. A writable root is an
 * overlay mount whose lowerdirs are the chain (top first) with an upper and
 * work dir of its own; a read-only view is the same without upper. Where
 * overlay cannot mount, the chain is copied into the root, applying each
 * layer's whiteouts (the native fallback). A successful build step's upper
 * dir becomes the next layer's snapshot directly (`commit`), so the layer a
 * build just wrote is never extracted again. With `recordOwner` (builds), each
 * root under `mounts/` has an owner record beside it (./mount-records.ts), so
 * what a killed build left is found (`staleMounts`) and cleared (`clearStaleMounts`).
 */
import { chmodSync, copyFileSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, type Stats } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { isErrno } from '../errors.js';
import { resolveInRoot } from '../layer/tar.js';
import { pathExists } from '../util/fsutil.js';
import { digestHex } from '../oci/digest.js';
import { decompress } from '../layer/compress.js';
import { extractLayer } from '../layer/extract.js';
import { readXattrTree } from '../layer/xattr.js';
import type { LayeredSnapshotter, Mounted } from './snapshotter.js';
import { MountRecords } from './mount-records.js';
import { shellHelper } from '../util/shell-helper.js';

/** mount, umount and mountpoint run by this process's command shell, not a fork of kiln each (../util/shell-helper.ts). */
const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) => shellHelper().run([cmd, ...args], opts);

/** Mount options are limited to a page; lowerdirs are given relative to the layers dir to fit more. */
const MAX_MOUNT_DATA = 4000;

export type { LayeredSnapshotter };

/** Did this kernel take overlayfs's `volatile` option (undefined: not tried yet)? */
let volatileWorks: boolean | undefined;

const exists = pathExists;

/** Is `dir` a mount point in this process's mount namespace? One read of /proc/self/mountinfo (no process forked). */
async function isMountPoint(dir: string): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch {
    return false; // gone: nothing is mounted there
  }
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => undefined);
  if (info === undefined) return run('mountpoint', ['-q', dir]).then(() => true, () => false);
  return mountPoints(info).has(real);
}

/** The mount points of a mountinfo text (field 5, octal escapes decoded). */
export function mountPoints(info: string): Set<string> {
  const out = new Set<string>();
  for (const line of info.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 5) out.add(f[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

async function unmount(dir: string): Promise<void> {
  if (await isMountPoint(dir)) await run('umount', [dir]).catch(async () => run('umount', ['-l', dir]));
}

/** Writable roots and views of builds whose process is gone: their mount points. */
export async function staleMounts(root: string): Promise<{ rootfs: string; pid: number }[]> {
  const records = new MountRecords(path.join(root, 'mounts'));
  return (await records.stale()).map((r) => ({ rootfs: records.rootfs(r.key), pid: r.pid }));
}

/** Unmounts and removes what `staleMounts` names (the processes running in them must be gone); returns their mount points. */
export function clearStaleMounts(root: string): Promise<string[]> {
  return new MountRecords(path.join(root, 'mounts')).clearStale(unmount);
}

/**
 * `volatile` (container roots: thrown away when the container ends; build
 * steps: the layer blob is what must last) mounts writable roots with
 * overlayfs's `volatile` option (Linux 5.10+): no sync of the upper
 * filesystem, so the unmount does not wait for the disk (a committed step's
 * upper dir is then as durable as an unpacked layer: written, never synced);
 * a kernel that refuses it gets the plain mount.
 */
export function overlaySnapshotter(root: string, opts: { noOverlay?: boolean; recordOwner?: boolean; volatile?: boolean } = {}): LayeredSnapshotter {
  const layersDir = path.join(root, 'layers');
  const mounts = path.join(root, 'mounts');
  const records = opts.recordOwner ? new MountRecords(mounts) : undefined;
  const dropMountDir = (key: string) => (records ? records.release(key) : rm(path.join(mounts, key), { recursive: true, force: true }));
  const emptyDir = path.join(layersDir, 'empty');

  /** fs dirs of the chain, top first, relative to layersDir. */
  const chainOf = (chainDir: string): string[] => {
    const out: string[] = [];
    let hex: string | undefined = path.basename(chainDir);
    while (hex) {
      out.push(`${hex}/fs`);
      hex = readFileSync(path.join(layersDir, hex, 'parent'), 'utf8').trim() || undefined;
    }
    return out;
  };

  async function newMountDir(key: string, chainDir: string): Promise<string> {
    const base = path.join(mounts, key);
    if (records) await records.claim(key);
    else await mkdir(path.join(base, 'rootfs'), { recursive: true });
    await writeFile(path.join(base, 'parent'), path.basename(chainDir));
    return base;
  }

  async function mountOverlay(target: string, lowers: string[], upper?: { upper: string; work: string }): Promise<boolean> {
    if (opts.noOverlay) return false;
    const data = `lowerdir=${lowers.join(':')}${upper ? `,upperdir=${upper.upper},workdir=${upper.work}` : ''}`;
    if (data.length > MAX_MOUNT_DATA) return false;
    const mount = (o: string) => run('mount', ['-t', 'overlay', 'overlay', '-o', o, target], { cwd: layersDir }).then(() => true, () => false);
    if (upper && opts.volatile && volatileWorks !== false) {
      volatileWorks = await mount(`${data},volatile`);
      if (volatileWorks) return true;
    }
    return mount(data);
  }

  return {
    async unpack(layers) {
      await mkdir(layersDir, { recursive: true, mode: 0o700 }); // unpacked layers: no other user may reach them (engine/root-mode.ts)
      let parent = '';
      for (const layer of layers) {
        const hex = digestHex(layer.chainId);
        const dir = path.join(layersDir, hex);
        if (!(await exists(path.join(dir, 'parent')))) {
          const tmp = path.join(layersDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
          await mkdir(path.join(tmp, 'fs'), { recursive: true });
          try {
            const tar = await decompress(Readable.from((await layer.open()) as AsyncIterable<Buffer>));
            await extractLayer(tar, path.join(tmp, 'fs'), { allowDevices: process.getuid?.() === 0, whiteouts: 'overlay' });
            await writeFile(path.join(tmp, 'parent'), parent);
            await rename(tmp, dir).catch(async (e) => {
              // Another process finished the same snapshot first: theirs is as good as ours.
              if (isErrno(e, 'ENOTEMPTY') || isErrno(e, 'EEXIST')) return rm(tmp, { recursive: true, force: true });
              throw e;
            });
          } catch (e) {
            await rm(tmp, { recursive: true, force: true });
            throw e;
          }
        }
        parent = hex;
      }
      if (!parent) {
        await mkdir(path.join(emptyDir, 'fs'), { recursive: true });
        if (!(await exists(path.join(emptyDir, 'parent')))) await writeFile(path.join(emptyDir, 'parent'), '');
        return emptyDir;
      }
      return path.join(layersDir, parent);
    },

    async prepare(key, chainDir): Promise<Mounted> {
      const base = await newMountDir(key, chainDir);
      const rootfs = path.join(base, 'rootfs');
      const upper = path.join(base, 'upper');
      const work = path.join(base, 'work');
      await mkdir(upper, { recursive: true });
      await mkdir(work, { recursive: true });
      if (await mountOverlay(rootfs, chainOf(chainDir), { upper, work })) return { rootfs, kind: 'overlay', upper };
      await materialize(layersDir, chainOf(chainDir), rootfs);
      return { rootfs, kind: 'copy' };
    },

    async view(key, chainDir): Promise<Mounted> {
      const lowers = chainOf(chainDir);
      if (lowers.length === 1) return { rootfs: path.join(layersDir, lowers[0]!), kind: 'overlay' };
      const base = await newMountDir(key, chainDir);
      const rootfs = path.join(base, 'rootfs');
      if (await mountOverlay(rootfs, lowers)) return { rootfs, kind: 'overlay' };
      await materialize(layersDir, lowers, rootfs);
      return { rootfs, kind: 'copy' };
    },

    async commit(key, chainId) {
      const base = path.join(mounts, key);
      const parent = (await readFile(path.join(base, 'parent'), 'utf8')).trim();
      await unmount(path.join(base, 'rootfs'));
      const hex = digestHex(chainId);
      const dir = path.join(layersDir, hex);
      if (!(await exists(path.join(dir, 'parent')))) {
        const tmp = path.join(layersDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
        await mkdir(tmp);
        await rename(path.join(base, 'upper'), path.join(tmp, 'fs'));
        await writeFile(path.join(tmp, 'parent'), parent === 'empty' ? '' : parent);
        await rename(tmp, dir).catch(async (e) => {
          if (isErrno(e, 'ENOTEMPTY') || isErrno(e, 'EEXIST')) return rm(tmp, { recursive: true, force: true });
          throw e;
        });
      }
      await dropMountDir(key);
      return dir;
    },

    async detach(key) {
      await unmount(path.join(mounts, key, 'rootfs'));
    },

    async remove(key) {
      const base = path.join(mounts, key);
      await unmount(path.join(base, 'rootfs'));
      await dropMountDir(key);
    },
  };
}

/**
 * The copy fallback: the chain's layers, bottom first, copied into `target`
 * with their whiteouts applied; every path is resolved inside `target`, so a
 * symlink an image holds never leads a write outside it.
 */
async function materialize(layersDir: string, lowersTopFirst: string[], target: string): Promise<void> {
  for (const rel of [...lowersTopFirst].reverse()) {
    const src = path.join(layersDir, rel);
    const opaque = await readXattrTree(src, 'trusted.overlay.opaque').catch(() => new Map<string, Map<string, Buffer>>());
    const dirs: { to: string; st: Stats }[] = [];
    const walk = (dir: string, relDir: string[]) => {
      for (const name of readdirSync(dir)) {
        const comps = [...relDir, name];
        const from = path.join(dir, name);
        const st = lstatSync(from);
        const parent = resolveInRoot(target, relDir, { followLast: true, mkdirs: true });
        const to = path.join(parent, name);
        const old = lstatSync(to, { throwIfNoEntry: false });
        if (st.isCharacterDevice() && st.rdev === 0) {
          rmSync(to, { recursive: true, force: true });
          continue;
        }
        if (old && !(old.isDirectory() && st.isDirectory())) rmSync(to, { recursive: true, force: true });
        if (st.isDirectory()) {
          if (!old?.isDirectory()) mkdirSync(to);
          else if (opaque.get(comps.join('/'))?.get('trusted.overlay.opaque')?.toString() === 'y') {
            for (const child of readdirSync(to)) rmSync(path.join(to, child), { recursive: true, force: true });
          }
          dirs.push({ to, st });
          walk(from, comps);
        } else if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
        else if (st.isFile()) copyFileSync(from, to);
        else continue; // fifos and devices: not needed to run a build step
        lchownSync(to, st.uid, st.gid);
        if (!st.isSymbolicLink() && !st.isDirectory()) {
          chmodSync(to, st.mode & 0o7777);
          utimesSync(to, st.atime, st.mtime);
        }
      }
    };
    walk(src, []);
    for (const { to, st } of dirs.reverse()) {
      chmodSync(to, st.mode & 0o7777);
      utimesSync(to, st.atime, st.mtime);
    }
  }
}
