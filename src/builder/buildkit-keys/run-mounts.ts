/**
 * A RUN's --mount flags as BuildKit's exec op carries them into its cache key
 * (v0.34.2; measured in buildkitd's cache-debug.db, facts from
 * client/llb/exec.go Marshal, solver/llbsolver/ops/exec.go CacheMap and the
 * Dockerfile frontend's dispatchRunMounts/dispatchSecret/dispatchSSH):
 *
 *   mounts     the root mount `{"dest":"/"}`, then the bind, cache and tmpfs
 *              mounts sorted by target, then the secret mounts, then ssh, each
 *              a pb.Mount with its selector cleared:
 *     cache    {"input":-1,"dest","output":-1,"readonly"?,"mountType":3,"cacheOpt":{"ID"?}}
 *              ID "/<id>" kept only when id is the target and sharing is shared;
 *              else ID and sharing are cleared ({}): the cache's name never splits a key;
 *              with uid/gid/mode "input":1, a mkdir of /cache on scratch, its record's second
 *              input the content root record of that empty directory (cacheDirChecksum)
 *     tmpfs    {"input":-1,"dest","output":-1,"mountType":4,"TmpfsOpt":{"size"?}}
 *     bind     {"input":1,"dest","output":-1,"readonly"?}: the context, its record's
 *              second input the root record of the bound path's content checksum
 *     secret   {"input":-1,"dest","mountType":1,"secretOpt":{"ID","uid"?,"gid"?,"mode","optional"?}}
 *              the secret's id only: its value never enters a key
 *     ssh      {"input":-1,"dest","mountType":2,"SSHOpt":{"ID"?,"uid"?,"gid"?,"mode","optional"?}}
 *   secretenv  [{"ID","name","optional"?}] for `env=`
 *   env        SSH_AUTH_SOCK=<the first ssh target> appended when not set
 *
 * Undefined when kiln cannot say what BuildKit would hash (the chain stops):
 * a bind from a stage or image, a cache mount from one, more than one input
 * (the context's binds, a cache mount with uid/gid/mode, a `#!` heredoc), a target not
 * written as a clean path, a secret named by source=, a bind under .dockerignore.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Mount } from '../../dockerfile/index.js';
import { contentRecord, sha256 } from './keys.js';
import { dirChecksum, treeChecksum } from './tree-checksum.js';

export interface ExecMounts {
  /** pb.Mount JSON objects, the root mount first (empty: no mount besides the root). */
  mounts: Record<string, unknown>[];
  secretenv: Record<string, unknown>[];
  /** Appended to the RUN's env (SSH_AUTH_SOCK). */
  env: string[];
  /** The root record of the bound context path's content (the exec's second input). */
  content?: string;
}

/**
 * The content checksum of the empty /cache directory the frontend makes for a
 * cache mount with uid, gid or mode (default 0:0, 0755): a directory's, its
 * header holding that owner (measured: mode448 uid1000 gid1000).
 */
export function cacheDirChecksum(m: Pick<Mount, 'uid' | 'gid' | 'mode'>): string {
  const header = `namemode${(m.mode ?? 0o755) & 0o7777}uid${m.uid ?? 0}gid${m.gid ?? 0}size0typeflag5linknameunamegnamedevmajor0devminor0`;
  return dirChecksum(sha256(header), []);
}

/** Distinct paths, none under another, in byte order (BuildKit's dedupePaths of an input's selectors). */
export function dedupePaths(paths: string[]): string[] {
  const all = [...new Set(paths)];
  const under = (p: string, q: string) => p !== q && p.startsWith(q.endsWith('/') ? q : q + '/');
  return all.filter((p) => !all.some((q) => under(p, q))).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

const clean = (p: string) => path.posix.normalize(p) === p && (p === '/' || !p.endsWith('/'));

/**
 * The mounts of a RUN in `cwd`; `contextDir` for binds of the build context (all one input: its content
 * is the checksums of their sources, deduplicated as BuildKit's dedupePaths: sorted, none under another);
 * `pipe`: a read-only mount with an input the RUN itself adds (a `#!` heredoc's file at /dev/pipes/, run-step.ts).
 */
export async function execMounts(list: Mount[], cwd: string, contextDir: string | undefined, ignoring = false, pipe?: { dest: string; content: string }): Promise<ExecMounts | undefined> {
  const out: ExecMounts = { mounts: [], secretenv: [], env: [] };
  if (list.length === 0 && !pipe) return out;
  const sorted: { dest: string; m: Record<string, unknown> }[] = [];
  const secrets: Record<string, unknown>[] = [];
  const ssh: Record<string, unknown>[] = [];
  let inputs = 0;
  const bound: string[] = [];
  if (pipe) {
    inputs++;
    out.content = pipe.content;
    sorted.push({ dest: pipe.dest, m: { input: 1, dest: pipe.dest, output: -1, readonly: true } });
  }
  for (const m of list) {
    if (m.type === 'bind' || m.type === 'cache' || m.type === 'tmpfs') {
      const t = m.target ?? '';
      if (!clean(t) || t === '.' || t.startsWith('..')) return undefined;
      const dest = t.startsWith('/') ? t : path.posix.join('/', cwd, t);
      if (dest === '/') return undefined;
      if (m.type === 'tmpfs') {
        sorted.push({ dest, m: { input: -1, dest, output: -1, mountType: 4, TmpfsOpt: m.size ? { size: m.size } : {} } });
      } else if (m.type === 'cache') {
        if (m.from !== undefined || m.source) return undefined;
        // uid, gid or mode: the frontend mounts /cache of a mkdir on scratch, an input linked by its content.
        const owned = m.uid !== undefined || m.gid !== undefined || m.mode !== undefined;
        if (owned && ++inputs > 1) return undefined;
        if (owned) out.content = contentRecord([cacheDirChecksum(m)]);
        // The frontend's default id is the target, cleaned; kiln's parser leaves it as written.
        const id = m.id === undefined || m.id === m.target ? path.posix.normalize(t) : m.id;
        const keep = id === dest && (m.sharing ?? 'shared') === 'shared';
        sorted.push({ dest, m: { input: owned ? 1 : -1, dest, output: -1, ...(m.readonly ? { readonly: true } : {}), mountType: 3, cacheOpt: keep ? { ID: `/${id}` } : {} } });
      } else {
        if (m.from !== undefined || contextDir === undefined || (bound.length === 0 && ++inputs > 1)) return undefined;
        const src = path.posix.join('/', m.source ?? '');
        const st = await lstat(path.join(contextDir, src)).catch(() => undefined);
        if (!st || !(st.isFile() || (st.isDirectory() && !ignoring))) return undefined;
        bound.push(src);
        sorted.push({ dest, m: { input: 1, dest, output: -1, ...(m.readonly ? { readonly: true } : {}) } });
      }
    } else if (m.type === 'secret') {
      if (m.source !== undefined || m.id === undefined || (m.target !== undefined && !(m.target.startsWith('/') && clean(m.target)))) return undefined;
      const optional = m.required ? {} : { optional: true };
      if (m.env) out.secretenv.push({ ID: m.id, name: m.env, ...optional });
      if (m.target !== undefined || !m.env) {
        const dest = m.target ?? `/run/secrets/${path.posix.basename(m.id)}`;
        secrets.push({ input: -1, dest, mountType: 1, secretOpt: { ID: m.id, ...(m.uid ? { uid: m.uid } : {}), ...(m.gid ? { gid: m.gid } : {}), mode: m.mode ?? 0o400, ...optional } });
      }
    } else if (m.type === 'ssh') {
      if (ssh.length > 0 || m.id === 'default' || (m.target !== undefined && !(m.target.startsWith('/') && clean(m.target)))) return undefined;
      const dest = m.target ?? '/run/buildkit/ssh_agent.0';
      // The frontend passes the id as written: none for the default agent.
      const id = m.id && m.id !== 'default' ? { ID: m.id } : {};
      ssh.push({ input: -1, dest, mountType: 2, SSHOpt: { ...id, ...(m.uid ? { uid: m.uid } : {}), ...(m.gid ? { gid: m.gid } : {}), mode: m.mode ?? 0o600, ...(m.required ? {} : { optional: true }) } });
      out.env.push(`SSH_AUTH_SOCK=${dest}`);
    } else return undefined;
  }
  if (bound.length > 0) {
    const checksums: string[] = [];
    for (const src of dedupePaths(bound)) {
      const checksum = await treeChecksum(path.join(contextDir!, src), src === '/');
      if (checksum === undefined) return undefined;
      checksums.push(checksum);
    }
    out.content = contentRecord(checksums);
  }
  sorted.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  out.mounts = [{ dest: '/' }, ...sorted.map((s) => s.m), ...secrets, ...ssh];
  return out;
}
