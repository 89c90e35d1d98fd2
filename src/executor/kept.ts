/**
 * What `kiln executor` keeps out of the image and safe from layers: kiln's
 * own files (its state dir, its executable, the context and docker config
 * when they sit under the root) and what is not the image's — /proc, /sys,
 * /dev, every mount point under the root (/proc/self/mountinfo: /etc/hosts,
 * /etc/resolv.conf, /var/run/secrets, volumes…), the usual runtime files and
 * `--ignore-path`s. Paths come out relative to the root.
 */
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { KeptPaths } from '../snapshot/inplace.js';
import { mountPointsOf } from '../util/mountinfo.js';

/** Runtime files that are mounts in Docker, Kubernetes and runc containers, kept even where they are not mounts here. */
const RUNTIME_FILES = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'etc/mtab', 'var/run/secrets', 'run/secrets'];

/** `abs` relative to `root`, or undefined when it is not under it (or is the root). */
export function inRoot(root: string, abs: string): string | undefined {
  const r = path.relative(path.resolve(root), path.resolve(abs));
  if (r === '' || r.startsWith('..') || path.isAbsolute(r)) return undefined;
  return r.split(path.sep).join('/');
}

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

export function keptPaths(opts: { root: string; own: string[]; ignore: string[]; mountinfo?: string }): KeptPaths {
  const root = real(opts.root);
  const rel = (list: string[]) => [...new Set(list.flatMap((p) => [inRoot(root, p), inRoot(root, real(p))]).filter((p): p is string => p !== undefined))];
  const mounts = mountPointsOf(opts.mountinfo ?? readFileSync('/proc/self/mountinfo', 'utf8'));
  return {
    own: rel(opts.own),
    skip: [...RUNTIME_FILES, ...rel(mounts), ...opts.ignore.map((p) => path.posix.normalize(p).replace(/^\/+|\/+$/g, '')).filter((p) => p !== '' && p !== '.')],
  };
}
