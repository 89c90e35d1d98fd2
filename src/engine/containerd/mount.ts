/**
 * containerd's mounts (what the Snapshots service's Prepare, View and Mounts
 * return) made on this host: kiln runs as root on the node, beside
 * containerd, so an overlay or bind mount it describes can be mounted here.
 */
import path from 'node:path';
import { failedPrecondition } from '../../errors.js';
import { shellHelper } from '../../util/shell-helper.js';
import type { Message } from './grpc.js';

/** mount and umount through this process's one command shell (no fork of kiln per mount). */
const run = (cmd: string, args: string[], opts: { cwd?: string } = {}) => shellHelper().run([cmd, ...args], opts);

/** Mount options are limited to a page: longer lowerdir lists are given relative to their common parent. */
const MAX_MOUNT_DATA = 4000;

export interface SnapshotMount {
  type: string;
  source: string;
  options: string[];
}

export const toMounts = (mounts: Message[]): SnapshotMount[] =>
  mounts.map((m) => ({ type: m.type as string, source: m.source as string, options: [...((m.options ?? []) as string[])] }));

/** The writable directory of a snapshot's mount: overlay's upperdir, or a read-write bind's source. */
export function upperOf(mounts: SnapshotMount[]): string | undefined {
  const [m] = mounts;
  if (!m || mounts.length !== 1) return undefined;
  if (m.type === 'overlay') return m.options.find((o) => o.startsWith('upperdir='))?.slice('upperdir='.length);
  if (m.type === 'bind' && !m.options.includes('ro')) return m.source;
  return undefined;
}

function commonDir(dirs: string[]): string {
  let prefix = path.dirname(dirs[0]!);
  while (!dirs.every((d) => d.startsWith(prefix + '/')) && prefix !== '/') prefix = path.dirname(prefix);
  return prefix;
}

/** The options with the lowerdirs shortened, and the directory they are relative to, when the data is too long for one page. */
function overlayData(options: string[]): { data: string; cwd?: string } {
  const data = options.join(',');
  if (data.length <= MAX_MOUNT_DATA) return { data };
  const lowers = options.find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length).split(':') ?? [];
  const dirs = [...lowers, ...options.flatMap((o) => (/^(upperdir|workdir)=/.test(o) ? [o.slice(o.indexOf('=') + 1)] : []))];
  const cwd = commonDir(dirs);
  const rel = (p: string) => path.relative(cwd, p);
  const short = options.map((o) => {
    if (o.startsWith('lowerdir=')) return `lowerdir=${lowers.map(rel).join(':')}`;
    if (/^(upperdir|workdir)=/.test(o)) return `${o.slice(0, o.indexOf('='))}=${rel(o.slice(o.indexOf('=') + 1))}`;
    return o;
  });
  return { data: short.join(','), cwd };
}

/** Did this kernel take overlayfs's `volatile` option (undefined: not tried yet)? */
let volatileWorks: boolean | undefined;

/** An overlay mount; `volatile` (writable roots only) tried first when asked and the kernel has not refused it before. */
async function mountOverlay(m: SnapshotMount, target: string, volatile: boolean): Promise<void> {
  const mount = (options: string[]) => {
    const { data, cwd } = overlayData(options);
    return run('mount', ['-t', 'overlay', 'overlay', '-o', data, target], cwd ? { cwd } : {});
  };
  if (volatile && volatileWorks !== false && m.options.some((o) => o.startsWith('upperdir='))) {
    volatileWorks = await mount([...m.options, 'volatile']).then(() => true, () => false);
    if (volatileWorks) return;
  }
  await mount(m.options);
}

/**
 * Mounts containerd's description of a snapshot at `target` (an existing directory). `volatile` (a build step's
 * root: its layer blob is what must last) mounts a writable overlay with overlayfs's `volatile` option (Linux
 * 5.10+): the unmount does not sync the upper filesystem, so a committed step's upper dir is as durable as a layer
 * the diff service unpacks (written, not synced); a kernel that refuses it gets the plain mount.
 */
export async function mountAll(mounts: SnapshotMount[], target: string, opts: { volatile?: boolean } = {}): Promise<void> {
  for (const m of mounts) {
    try {
      if (m.type === 'overlay') {
        await mountOverlay(m, target, opts.volatile === true);
      } else if (m.type === 'bind') {
        await run('mount', ['-o', m.options.join(','), m.source, target]);
      } else {
        throw failedPrecondition(`containerd gave a ${m.type} mount; kiln builds mount overlay and bind snapshots only`, { hint: 'use the overlayfs snapshotter' });
      }
    } catch (e) {
      if (e instanceof Error && 'stderr' in e) {
        throw failedPrecondition(`mounting the containerd snapshot at ${target}: ${String((e as { stderr: unknown }).stderr).trim() || e.message}`, { hint: "builds on containerd run as root on the node and need containerd's root directory at the same path", cause: e });
      }
      throw e;
    }
  }
}

/** Unmounts `target`; lazily when it is still busy (a container killed with its builder); fine when nothing is mounted there. */
export async function unmount(target: string): Promise<void> {
  try {
    await run('umount', [target]);
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '');
    if (/not mounted|no mount point|not found|No such file/i.test(stderr)) return;
    await run('umount', ['-l', target]).catch(() => undefined);
  }
}
