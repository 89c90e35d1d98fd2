/**
 * A system error no layer turned into a KilnError (the store of another user, a full disk) as one line: what
 * could not be done to which path, and what to do — not Node's `EACCES: permission denied, scandir '…'`.
 */
import path from 'node:path';
import { failedPrecondition, isKilnError, permissionDenied, unavailable } from '../errors.js';

/** Node's syscall names, as a user says them. */
const VERBS: Record<string, string> = { scandir: 'list', open: 'open', mkdir: 'create', stat: 'reach', lstat: 'reach', access: 'reach', unlink: 'remove', rmdir: 'remove', rm: 'remove', rename: 'rename', write: 'write', link: 'link', symlink: 'link', copyfile: 'copy', chmod: 'change', chown: 'change', utime: 'change' };

export function fromSystemError(e: unknown, root: string): unknown {
  if (!(e instanceof Error) || isKilnError(e)) return e;
  const x = e as NodeJS.ErrnoException;
  if (x.path === undefined || x.syscall === undefined) return e;
  const what = `cannot ${VERBS[x.syscall] ?? x.syscall} ${x.path}`;
  const store = path.resolve(root);
  const inStore = x.path === store || x.path.startsWith(store + path.sep);
  if (x.code === 'EACCES' || x.code === 'EPERM' || x.code === 'EROFS') {
    const why = x.code === 'EROFS' ? 'read-only file system' : 'permission denied';
    const hint = inStore ? `the kiln store ${store} is not this user's: run kiln as its owner (sudo kiln …), or pass --root DIR for a store of your own` : 'check the permissions of that path, or run kiln as a user who may use it';
    return permissionDenied(`${what}: ${why}`, { hint, cause: e });
  }
  // mkdir refusing the store, or a directory above it, whose parent exists (util/mkdirs.ts): procfs, sysfs and the like
  const storeOrAbove = x.path === store || store.startsWith(x.path.endsWith(path.sep) ? x.path : x.path + path.sep);
  if (x.syscall === 'mkdir' && x.code === 'ENOENT' && storeOrAbove) {
    return failedPrecondition(`cannot create the kiln store ${store}: the file system refuses ${x.path === store ? 'new directories there' : `to create ${x.path}`}`, {
      hint: 'pass --root DIR naming a directory on a writable file system, or set KILN_ROOT to one',
      cause: e,
    });
  }
  if (x.code === 'ENOSPC' || x.code === 'EDQUOT') {
    const hint = inStore ? `free some space (kiln system prune gives back what nothing uses), or pass --root DIR on a bigger disk` : 'free some space on that disk';
    return unavailable(`${what}: no space left on the device`, { hint, cause: e });
  }
  return e;
}
