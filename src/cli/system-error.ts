/**
 * A system error no layer turned into a KilnError (the store of another user, a full disk) as one line: what
 * could not be done to which path, and what to do — not Node's `EACCES: permission denied, scandir '…'`.
 */
import path from 'node:path';
import { failedPrecondition, isKilnError, permissionDenied, unavailable, type KilnError } from '../errors.js';
import { notADirectoryAt } from '../util/mkdirs.js';

/** Node's syscall names, as a user says them. */
const VERBS: Record<string, string> = { scandir: 'list', open: 'open', mkdir: 'create', stat: 'reach', lstat: 'reach', access: 'reach', unlink: 'remove', rmdir: 'remove', rm: 'remove', rename: 'rename', write: 'write', link: 'link', symlink: 'link', copyfile: 'copy', chmod: 'change', chown: 'change', utime: 'change' };

export function fromSystemError(e: unknown, root: string): unknown {
  if (!(e instanceof Error) || isKilnError(e)) return e;
  const x = e as NodeJS.ErrnoException;
  if (x.path === undefined || x.syscall === undefined) return e;
  const what = `cannot ${VERBS[x.syscall] ?? x.syscall} ${x.path}`;
  const store = path.resolve(root);
  const inStore = x.path === store || x.path.startsWith(store + path.sep);
  // the store, or a directory above it
  const storeOrAbove = x.path === store || store.startsWith(x.path.endsWith(path.sep) ? x.path : x.path + path.sep);
  // (a path in the store too: under a store that is a file, its oci-layout is ENOTDIR)
  const rootError = storeOrAbove || (inStore && x.code === 'ENOTDIR') ? storeRootError(x, store) : undefined;
  if (rootError) return rootError;
  if (x.code === 'EACCES' || x.code === 'EPERM' || x.code === 'EROFS') {
    const why = x.code === 'EROFS' ? 'read-only file system' : 'permission denied';
    const hint = inStore ? `the kiln store ${store} is not this user's: run kiln as its owner (sudo kiln …), or pass --root DIR for a store of your own` : 'check the permissions of that path, or run kiln as a user who may use it';
    return permissionDenied(`${what}: ${why}`, { hint, cause: e });
  }
  if (x.code === 'ENOSPC' || x.code === 'EDQUOT') {
    const hint = inStore ? `free some space (kiln system prune gives back what nothing uses), or pass --root DIR on a bigger disk` : 'free some space on that disk';
    return unavailable(`${what}: no space left on the device`, { hint, cause: e });
  }
  return e;
}

const WRITABLE_FS = 'pass --root DIR naming a directory on a writable file system, or set KILN_ROOT to one';

/**
 * The store (or a directory above it) cannot be a directory, or cannot be made: what is in the way (a file, a link to
 * one, a dangling link: util/mkdirs.ts's notADirectoryAt), or mkdir's refusal, named as docker and containerd name it
 * (`mkdir PATH: permission denied`).
 */
function storeRootError(x: NodeJS.ErrnoException, store: string): KilnError | undefined {
  if (x.code === 'ENOTDIR' || (x.code === 'EEXIST' && x.syscall === 'mkdir')) {
    const w = notADirectoryAt(store);
    if (!w) return undefined;
    const it = w.path === store ? 'it' : w.path;
    if (w.kind === 'missing') {
      return failedPrecondition(`cannot use ${store} as the kiln store: ${it} is a symbolic link to ${w.target}, which does not exist`, {
        hint: `create ${path.resolve(path.dirname(w.path), w.target!)}, or pass --root DIR naming a directory`,
        cause: x,
      });
    }
    const is = w.target === undefined ? `a ${w.kind}` : `a symbolic link to the ${w.kind} ${w.target}`;
    return failedPrecondition(`cannot use ${store} as the kiln store: ${it} is ${is}, not a directory`, { hint: 'pass --root DIR naming a directory, or a new path under one', cause: x });
  }
  if (x.syscall !== 'mkdir') return undefined;
  // mkdir refusing where the parent exists (util/mkdirs.ts): procfs, sysfs and the like
  if (x.code === 'ENOENT') {
    return failedPrecondition(`cannot create the kiln store ${store}: the file system refuses ${x.path === store ? 'new directories there' : `to create ${x.path}`}`, { hint: WRITABLE_FS, cause: x });
  }
  if (x.code === 'EACCES' || x.code === 'EPERM') {
    return permissionDenied(`cannot create the kiln store ${store}: mkdir ${x.path}: permission denied`, { hint: 'pass --root DIR under a directory of yours, or run kiln as a user who may write there', cause: x });
  }
  if (x.code === 'EROFS') return failedPrecondition(`cannot create the kiln store ${store}: mkdir ${x.path}: read-only file system`, { hint: WRITABLE_FS, cause: x });
  return undefined;
}
