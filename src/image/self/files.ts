/**
 * What goes into kiln's own image (`kiln system agent-image`): the packaged
 * executable at /usr/local/bin/kiln, the host tools the agent calls on a node
 * (runc, mount, umount; a few more when the host has them), and every shared
 * library these need as `ldd` names it, the dynamic loader included — each
 * at the path the host has it, so the image needs nothing else.
 */
import { execFile } from 'node:child_process';
import { access, constants, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { failedPrecondition, isErrno } from '../../errors.js';

const run = promisify(execFile);

/** One file of the image: where it goes, where its bytes come from (symlinks followed), its mode. */
export interface ImageFile {
  path: string;
  source: string;
  size: number;
  mode: number;
}

export interface Tool {
  name: string;
  /** Where it goes in the image (also where kiln looks for it there). */
  path: string;
  /** Without it the image is not made; the others are left out when the host lacks them. */
  required: boolean;
  why: string;
  /** The Debian package that has it, for the hint. */
  pkg: string;
  /** Data files it reads (kept at the same path), when the host has them. */
  data?: string[];
}

/** The tools kiln runs on a node, besides itself. */
export const TOOLS: Tool[] = [
  { name: 'runc', path: '/usr/sbin/runc', required: true, why: 'runs containers and build steps', pkg: 'runc' },
  { name: 'mount', path: '/usr/bin/mount', required: true, why: 'mounts snapshots for build steps', pkg: 'mount' },
  { name: 'umount', path: '/usr/bin/umount', required: true, why: 'unmounts them', pkg: 'mount' },
  { name: 'getfattr', path: '/usr/bin/getfattr', required: false, why: "reads a build step's extended attributes", pkg: 'attr' },
  { name: 'cp', path: '/usr/bin/cp', required: false, why: 'copies volume contents and build outputs', pkg: 'coreutils' },
  { name: 'openssl', path: '/usr/bin/openssl', required: false, why: "makes the agent's TLS certificates", pkg: 'openssl', data: ['/usr/lib/ssl/openssl.cnf'] },
  { name: 'zstd', path: '/usr/bin/zstd', required: false, why: 'zstd layers', pkg: 'zstd' },
  { name: 'xz', path: '/usr/bin/xz', required: false, why: 'ADD of .tar.xz archives', pkg: 'xz-utils' },
  { name: 'tini-static', path: '/usr/bin/tini-static', required: false, why: 'run --init', pkg: 'tini' },
];

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The host's copy of a tool: its own image path first, then the usual directories. */
async function findTool(tool: Tool): Promise<string | undefined> {
  for (const p of [tool.path, ...SEARCH.map((d) => path.join(d, tool.name))]) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * The shared libraries an executable loads, as `ldd` names them (the paths
 * the loader will look at in the image); none for a static one.
 */
export async function sharedLibraries(file: string): Promise<string[]> {
  let out: string;
  try {
    out = (await run('ldd', [file], { encoding: 'utf8' })).stdout;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string; code?: unknown };
    if (err.code === 'ENOENT') throw failedPrecondition('ldd is not installed', { hint: 'install libc-bin (it has ldd)' });
    // A static executable: ldd says so and exits 1.
    if (/not a dynamic executable|statically linked/.test(`${err.stdout ?? ''}${err.stderr ?? ''}`)) return [];
    throw failedPrecondition(`ldd ${file} failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}`);
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const l = line.trim();
    if (l === '' || /statically linked/.test(l)) continue;
    const missing = /^(\S+) => not found$/.exec(l);
    if (missing) throw failedPrecondition(`${file} needs ${missing[1]}, which this host does not have`, { hint: 'install the package that has it' });
    const m = /^(?:\S+ => )?(\/\S+) \(0x[0-9a-f]+\)$/.exec(l);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

async function imageFile(imagePath: string, hostPath: string): Promise<ImageFile> {
  const source = await realpath(hostPath);
  const st = await stat(source);
  // Plain permissions only: no setuid mount in the image.
  return { path: imagePath, source, size: st.size, mode: st.mode & 0o755 };
}

/** The ones of `files` the host has. */
async function present(files: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const f of files) if (await access(f, constants.R_OK).then(() => true, () => false)) found.push(f);
  return found;
}

export interface ImageContents {
  files: ImageFile[];
  /** Optional tools the host did not have, left out. */
  missing: Tool[];
}

/** The files of kiln's image made from `executable`, sorted by path. */
export async function imageContents(executable: string): Promise<ImageContents> {
  const bins: { path: string; host: string; data?: boolean }[] = [{ path: '/usr/local/bin/kiln', host: executable }];
  const missing: Tool[] = [];
  for (const tool of TOOLS) {
    const host = await findTool(tool);
    if (host) bins.push({ path: tool.path, host }, ...(await present(tool.data ?? [])).map((p) => ({ path: p, host: p, data: true })));
    else if (tool.required) {
      throw failedPrecondition(`${tool.name} is not installed on this host; kiln's image needs it (${tool.why})`, { hint: `install it (apt-get install ${tool.pkg})` });
    } else missing.push(tool);
  }
  const files = new Map<string, Promise<ImageFile>>();
  for (const b of bins) {
    files.set(b.path, imageFile(b.path, b.host));
    if (b.data) continue;
    for (const lib of await sharedLibraries(b.host)) if (!files.has(lib)) files.set(lib, imageFile(lib, lib));
  }
  try {
    const all = await Promise.all(files.values());
    return { files: all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), missing };
  } catch (e) {
    if (isErrno(e, 'ENOENT')) throw failedPrecondition(`a file of kiln's image is missing: ${(e as Error).message}`);
    throw e;
  }
}
