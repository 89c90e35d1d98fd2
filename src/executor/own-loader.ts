/**
 * kiln's own dynamic loader and shared libraries, copied into its state dir
 * before `kiln executor` replaces `/` with the image being built: afterwards
 * the image's /lib is the image's (a static busybox has none; another libc
 * may be too old), so kiln can re-run itself (the run-as helper) only through
 * these copies — `LOADER --library-path DIR EXECUTABLE ARGS…`. The files are
 * the ones the running process has mapped (/proc/self/maps), so they are
 * exactly what it needs. undefined for a static executable.
 */
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';

export interface OwnLoader {
  /** The dynamic loader's copy (ld-linux…). */
  loader: string;
  /** The directory of the copied libraries. */
  libDir: string;
}

/** The shared objects a /proc/PID/maps text names (the loader among them). */
export function mappedLibraries(maps: string): string[] {
  const out = new Set<string>();
  for (const line of maps.split('\n')) {
    const file = line.split(/\s+/).slice(5).join(' ');
    if (file.startsWith('/') && /\.so(\.[0-9.]+)?$/.test(file)) out.add(file);
  }
  return [...out];
}

/** libx.so.6.0.30 → libx.so.6.0, libx.so.6, libx.so: the names a soname may be. */
export function shorterNames(name: string): string[] {
  const m = /^(.*\.so)((?:\.[0-9]+)+)$/.exec(name);
  if (!m) return [];
  const parts = m[2]!.split('.').slice(1);
  const out: string[] = [];
  for (let k = parts.length - 1; k >= 0; k--) out.push([m[1]!, ...parts.slice(0, k)].join('.'));
  return out;
}

/** Copies the libraries into DIR; the command line prefix that starts an executable with them. */
export async function copyOwnLoader(dir: string): Promise<OwnLoader | undefined> {
  const libs = mappedLibraries(await readFile('/proc/self/maps', 'utf8'));
  const loader = libs.find((l) => /^ld-.*\.so(\.[0-9.]+)?$/.test(path.basename(l)));
  if (!loader) return undefined;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await Promise.all(libs.map((l) => copyFile(l, path.join(dir, path.basename(l)))));
  // Maps name the real files (libstdc++.so.6.0.30); the loader looks for the sonames (libstdc++.so.6).
  for (const l of libs) for (const alias of shorterNames(path.basename(l))) await symlink(path.basename(l), path.join(dir, alias)).catch(() => undefined);
  return { loader: path.join(dir, path.basename(loader)), libDir: dir };
}

/** The argv that starts FILE ARGS through the copied loader. */
export const throughLoader = (own: OwnLoader, file: string, args: string[]): { file: string; args: string[] } => ({
  file: own.loader,
  args: ['--library-path', own.libDir, file, ...args],
});
