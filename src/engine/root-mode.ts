/**
 * The modes of a kiln root. Unpacked layers keep the image's owners, modes,
 * file capabilities and device nodes, so no other user may reach them: the
 * directories that hold unpacked or mounted filesystems (and the runtime and
 * build state next to them) are 0700, like containerd's below its root. The
 * root itself is 0711 (containerd's): others may pass through it to
 * ROOT/agent/agent.sock, whose own mode (0660) says who may connect, but can
 * neither list nor write it. Containers are not affected: runc and the
 * overlay mounts act as root, and a container's process sees its root
 * through the mount, never through these paths (a non-root USER runs).
 * `secureRoot` makes and repairs them at the start of a command;
 * `rootExposure` is what `kiln system check` reports without changing anything.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../errors.js';
import { makeDirsSync } from '../util/mkdirs.js';
import type { CheckProblem } from './engine.js';

export const ROOT_MODE = 0o711;
export const PRIVATE_MODE = 0o700;
/** What the local backend keeps under its root that holds filesystems (or the state of what runs on them). */
export const LOCAL_PRIVATE_DIRS = ['layers', 'mounts', 'run', 'build', 'containers', 'volumes'];

const FIX = 'run any kiln command on this root to fix it';
const perm = (m: number): string => `0${(m & 0o7777).toString(8)}`;

async function modeOf(p: string): Promise<{ mode: number; uid: number } | undefined> {
  try {
    const st = await stat(p);
    return { mode: st.mode & 0o7777, uid: st.uid };
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
}

/** Tightens `p` to drop the bits in `deny`; a directory of another owner is left for `rootExposure` to name. */
function tighten(p: string, deny: number): void {
  const st = modeOfSync(p);
  if (!st || (st.mode & deny) === 0) return;
  try {
    chmodSync(p, st.mode & ~deny);
  } catch (e) {
    if (!isErrno(e, 'EPERM')) throw e;
  }
}

function modeOfSync(p: string): { mode: number } | undefined {
  const st = statSync(p, { throwIfNoEntry: false });
  return st && { mode: st.mode & 0o7777 };
}

/**
 * Creates (when missing) and repairs the root (0711 at most) and `dirs` under
 * it (0700). A directory that exists and is no kiln store (no `oci-layout`) is
 * left alone (openStore refuses or creates it; the next command secures it),
 * unless `workDir` says it is kiln's own work directory (the containerd
 * backend's): then only `dirs` are made and repaired, never the root's mode.
 * Every command runs it first, so it makes its dozen stat/mkdir calls
 * synchronously (microseconds each) rather than through the thread pool.
 */
export async function secureRoot(root: string, dirs: readonly string[] = LOCAL_PRIVATE_DIRS, opts: { workDir?: boolean } = {}): Promise<void> {
  const st = modeOfSync(root);
  if (st && !opts.workDir && !modeOfSync(path.join(root, 'oci-layout'))) return;
  makeDirsSync(root, ROOT_MODE);
  if (!opts.workDir) tighten(root, 0o066);
  for (const d of dirs) {
    const p = path.join(root, d);
    try {
      mkdirSync(p, { mode: PRIVATE_MODE });
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    tighten(p, 0o077);
  }
}

/** The root and the private dirs other users can list, write or traverse, one problem each. */
export async function rootExposure(root: string, dirs: readonly string[] = LOCAL_PRIVATE_DIRS): Promise<CheckProblem[]> {
  const out: CheckProblem[] = [];
  const r = await modeOf(root);
  if (r && (r.mode & 0o066) !== 0) {
    out.push({ kind: 'mode', subject: root, message: `mode ${perm(r.mode)}: other users can ${r.mode & 0o022 ? 'write' : 'list'} it; kiln sets ${perm(ROOT_MODE)} (${FIX})` });
  }
  for (const d of dirs) {
    const p = path.join(root, d);
    const st = await modeOf(p);
    if (st && (st.mode & 0o077) !== 0) {
      out.push({
        kind: 'mode',
        subject: p,
        message: `mode ${perm(st.mode)}: other users can reach the ${d === 'layers' || d === 'mounts' ? 'unpacked image files' : 'files'} in it (setuid files, capabilities, device nodes); kiln sets ${perm(PRIVATE_MODE)} (${FIX})`,
      });
    }
  }
  return out;
}
