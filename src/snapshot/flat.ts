/**
 * A snapshotter of flattened trees: `snapshots/<chain-id hex>` holds the whole
 * filesystem of the image up to that layer (the parent copied with reflinks
 * where the filesystem has them, then the layer applied with whiteouts), made
 * in a temp dir and renamed, so a snapshot is visible only when whole.
 * Containers get an overlay mount on top (upper and work dirs of their own),
 * or a plain copy where overlay cannot mount.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { internal, isErrno } from '../errors.js';
import { digestHex } from '../oci/digest.js';
import { decompress } from '../layer/compress.js';
import { extractLayer } from '../layer/extract.js';
import type { Mounted, Snapshotter } from './snapshotter.js';

const run = promisify(execFile);

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return false;
    throw e;
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  await run('cp', ['-a', '--reflink=auto', `${from}/.`, to]).catch((e: Error & { stderr?: string }) => {
    throw internal(`copying ${from} to ${to}: ${e.stderr?.trim() || e.message}`, { cause: e });
  });
}

async function isMountPoint(dir: string): Promise<boolean> {
  try {
    await run('mountpoint', ['-q', dir]);
    return true;
  } catch {
    return false;
  }
}

export function flatSnapshotter(root: string): Snapshotter {
  const snapshots = path.join(root, 'snapshots');
  const mounts = path.join(root, 'mounts');

  return {
    async unpack(layers) {
      let parent: string | undefined;
      for (const layer of layers) {
        const dir = path.join(snapshots, digestHex(layer.chainId));
        if (!(await exists(dir))) {
          const tmp = path.join(snapshots, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
          await mkdir(tmp, { recursive: true });
          try {
            if (parent) await copyTree(parent, tmp);
            const tar = await decompress(Readable.from((await layer.open()) as AsyncIterable<Buffer>));
            await extractLayer(tar, tmp, { allowDevices: process.getuid?.() === 0 });
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
        parent = dir;
      }
      if (!parent) {
        // An image without layers: an empty root.
        parent = path.join(snapshots, 'empty');
        await mkdir(parent, { recursive: true });
      }
      return parent;
    },

    async prepare(key, chainDir): Promise<Mounted> {
      const base = path.join(mounts, key);
      const rootfs = path.join(base, 'rootfs');
      await mkdir(path.join(base, 'upper'), { recursive: true });
      await mkdir(path.join(base, 'work'), { recursive: true });
      await mkdir(rootfs, { recursive: true });
      try {
        await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${chainDir},upperdir=${base}/upper,workdir=${base}/work`, rootfs]);
        return { rootfs, kind: 'overlay', upper: path.join(base, 'upper') };
      } catch {
        await copyTree(chainDir, rootfs);
        return { rootfs, kind: 'copy' };
      }
    },

    async remove(key) {
      const base = path.join(mounts, key);
      const rootfs = path.join(base, 'rootfs');
      if (await isMountPoint(rootfs)) {
        await run('umount', [rootfs]).catch(async () => run('umount', ['-l', rootfs]));
      }
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** Snapshot directories present, for prune and tests. */
export async function listSnapshots(root: string): Promise<string[]> {
  try {
    return (await readdir(path.join(root, 'snapshots'))).filter((n) => !n.startsWith('.'));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
}
