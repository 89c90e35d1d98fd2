/**
 * `kiln diff` and `kiln export` on a running container: its writable root is
 * an overlay (mounts/container-ID/rootfs) whose upper dir holds what the
 * container changed. diff lists the upper dir as docker does (A added, C
 * changed, D deleted: an overlay whiteout), checking the lower dirs the mount
 * names to tell A from C; export streams the merged root as a tar (without the
 * container's own mounts: /proc, /sys, volumes).
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { failedPrecondition } from '../../../errors.js';
import { diffDirectory } from '../../../layer/diff.js';
import { pathExists } from '../../../util/fsutil.js';
import { rootfsKey } from './context.js';

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

/** Written by kiln into every container's root (bind mounts in docker). */
const KILN_FILES = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

const rootfsOf = (root: string, id: string) => path.join(root, 'mounts', rootfsKey(id), 'rootfs');

/** mountinfo escapes spaces, tabs, newlines and backslashes as \\ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The overlay's upper and lower dirs of the mount at `target`, from /proc/self/mountinfo; undefined when it is not an overlay. */
async function overlayDirs(target: string, layersDir: string): Promise<{ upper: string; lowers: string[] } | undefined> {
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post || unescape(pre.split(' ')[4] ?? '') !== target) continue;
    const [fstype, , opts = ''] = post.split(' ');
    if (fstype !== 'overlay') return undefined;
    const opt = (k: string) => opts.split(',').find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
    const upper = opt('upperdir');
    const lowers = opt('lowerdir');
    // kiln mounts with the layers directory as the working directory, so lowers are relative to it
    return upper && lowers ? { upper: unescape(upper), lowers: unescape(lowers).split(':').map((l) => path.resolve(layersDir, l)) } : undefined;
  }
  return undefined;
}

/** A running container's overlay dirs; one line when its root is a copy (no overlayfs here). */
export async function containerOverlay(root: string, id: string, name: string): Promise<{ upper: string; lowers: string[] }> {
  const dirs = await overlayDirs(rootfsOf(root, id), path.join(root, 'layers'));
  if (!dirs) throw failedPrecondition(`container ${name} has no overlay root (kiln copied its root: overlayfs is not available here), so its changes cannot be told apart`, { hint: 'kiln export gives its whole filesystem' });
  return dirs;
}

export async function containerChanges(root: string, id: string, name: string): Promise<Change[]> {
  const dirs = await containerOverlay(root, id, name);
  const out: Change[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of (await readdir(path.join(dirs.upper, rel))).sort()) {
      const r = path.posix.join(rel, entry);
      const st = await lstat(path.join(dirs.upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        out.push({ kind: 'D', path: `/${r}` });
        continue;
      }
      let below = false;
      for (const l of dirs.lowers) if ((below = await pathExists(path.join(l, r), 'lstat'))) break;
      out.push({ kind: below ? 'C' : 'A', path: `/${r}` });
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  // As docker, whose init layer holds them: the files kiln writes for the container's
  // network are not its changes, nor is /etc when they are all it changed there.
  const shown = out.filter((c) => !KILN_FILES.has(c.path));
  return shown.filter((c) => c.path !== '/etc' || c.kind !== 'C' || shown.some((o) => o.path.startsWith('/etc/')));
}

/** The merged root of a running container as a tar stream. */
export function exportRoot(root: string, id: string): Readable {
  return diffDirectory(rootfsOf(root, id), { overlay: false });
}
