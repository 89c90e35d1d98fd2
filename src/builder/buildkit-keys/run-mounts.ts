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
 *     bind     {"input":N,"dest","output":-1,"readonly"?}: of the context, its input linked by the root
 *              record of the bound paths' content checksums (a symlink followed in the context);
 *              from=<stage|image>, its input linked by that chain with the selector
 *              sha256(the bound paths joined by "\0", in mount order)
 *     secret   {"input":-1,"dest","mountType":1,"secretOpt":{"ID","uid"?,"gid"?,"mode","optional"?}}
 *              the secret's id only: its value never enters a key
 *     ssh      {"input":-1,"dest","mountType":2,"SSHOpt":{"ID"?,"uid"?,"gid"?,"mode","optional"?}}
 *   secretenv  [{"ID","name","optional"?}] for `env=`
 *   env        SSH_AUTH_SOCK=<the first ssh target> appended when not set
 *
 * Inputs (client/llb exec.go Marshal): the root mount's state is input 0 (none on scratch: `"input":-1`), then each
 * other state in mount order (sorted by target), one input per distinct state: every bind of the context is one, two
 * binds from one stage are one (its selectors joined), an owned cache mount's mkdir and a `#!` heredoc's file their
 * own. Go's omitempty drops an `"input":0` (the first input on scratch).
 *
 * Undefined when kiln cannot say what BuildKit would hash (the chain stops):
 * a from= state kiln cannot name, that is the RUN's own state or an empty scratch stage, a cache mount with from=
 * (BuildKit seeds the cache from that state, kiln's runtime does not) or with source=, a target not written as a clean path, a secret named by source=,
 * a bind of a directory under .dockerignore, a bound symlink leaving the context or looping.
 */
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Mount } from '../../dockerfile/index.js';
import { contentRecord, sha256 } from './keys.js';
import { dirChecksum, treeChecksum } from './tree-checksum.js';
import type { FromChain } from './copy-chain.js';
import { SCRATCH_CHAIN, type InputLink } from './step.js';

export interface ExecMounts {
  /** pb.Mount JSON objects, the root mount first (empty: no mount besides the root). */
  mounts: Record<string, unknown>[];
  secretenv: Record<string, unknown>[];
  /** Appended to the RUN's env (SSH_AUTH_SOCK). */
  env: string[];
  /** The links of the exec's inputs besides the root mount's state, in input order. */
  inputs: InputLink[];
}

/** Where a RUN's mounts come from: the context, a `#!` heredoc's file, other stages or images. */
export interface MountSources {
  contextDir?: string;
  /** The build has a .dockerignore (a bound directory is then not named). */
  ignoring?: boolean;
  /** A read-only mount with an input the RUN itself adds (a `#!` heredoc's file at /dev/pipes/, run-step.ts). */
  pipe?: { dest: string; content: string };
  /** from=<stage|image>: the chain name of that state (undefined: not named). */
  fromChain?: (from: string) => Promise<FromChain | undefined>;
  /** The chain of the state the RUN runs on (SCRATCH_CHAIN: none, the root mount has no input). */
  parent?: string;
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
 * `rel` (absolute, in the context) with its symlinks followed as contenthash's FollowLinks does, the context
 * its root; undefined when a link leaves it (`..` above the root), loops, or a component is missing.
 */
export async function followInContext(contextDir: string, rel: string): Promise<string | undefined> {
  const todo = rel.split('/').filter(Boolean);
  const done: string[] = [];
  for (let links = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      if (done.pop() === undefined) return undefined;
      continue;
    }
    const at = path.join(contextDir, ...done, name);
    const st = await lstat(at).catch(() => undefined);
    if (!st) return undefined;
    if (!st.isSymbolicLink()) {
      done.push(name);
      continue;
    }
    if (++links > 255) return undefined;
    const target = await readlink(at);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/').filter(Boolean));
  }
  return '/' + done.join('/');
}

/** One state the exec mounts besides the root's: what links it, and the paths its mounts select, in mount order. */
interface Input {
  id: string;
  selectors: string[];
  link: (selectors: string[]) => Promise<InputLink | undefined>;
}

/** The mounts of a RUN in `cwd` from `from` (the context, a `#!` heredoc, stages or images). */
export async function execMounts(list: Mount[], cwd: string, from: MountSources = {}): Promise<ExecMounts | undefined> {
  const out: ExecMounts = { mounts: [], secretenv: [], env: [], inputs: [] };
  if (list.length === 0 && !from.pipe) return out;
  const sorted: { dest: string; m: Record<string, unknown>; input?: Omit<Input, 'selectors'> & { selector: string } }[] = [];
  const secrets: Record<string, unknown>[] = [];
  const ssh: Record<string, unknown>[] = [];
  if (from.pipe) {
    const content = from.pipe.content;
    sorted.push({ dest: from.pipe.dest, m: { dest: from.pipe.dest, output: -1, readonly: true }, input: { id: 'pipe', selector: '/', link: async () => ({ content }) } });
  }
  for (const m of list) {
    if (m.type === 'bind' || m.type === 'cache' || m.type === 'tmpfs') {
      const t = m.target ?? '';
      if (!clean(t) || t === '.' || t.startsWith('..')) return undefined;
      const dest = t.startsWith('/') ? t : path.posix.join('/', cwd, t);
      if (dest === '/') return undefined;
      const src = path.posix.join('/', m.source ?? '');
      if (m.type === 'tmpfs') {
        sorted.push({ dest, m: { input: -1, dest, output: -1, mountType: 4, TmpfsOpt: m.size ? { size: m.size } : {} } });
        continue;
      }
      let input: (Omit<Input, 'selectors'> & { selector: string }) | undefined;
      if (m.from !== undefined) {
        // A cache mount from= is seeded by BuildKit from that state; kiln mounts its cache as it is (builder/mounts.ts),
        // so BuildKit's record would not be what kiln makes: not named.
        const fc = m.type === 'cache' ? undefined : await from.fromChain?.(m.from);
        if (!fc || fc.chain === SCRATCH_CHAIN || fc.chain === from.parent) return undefined;
        input = { id: `from:${fc.chain}`, selector: src, link: async (sels) => ({ from: { ...fc, selector: sha256(sels.join('\0')) } }) };
      } else if (m.type === 'cache') {
        if (m.source) return undefined;
        // uid, gid or mode: the frontend mounts /cache of a mkdir on scratch, an input linked by its content.
        if (m.uid !== undefined || m.gid !== undefined || m.mode !== undefined) {
          const content = contentRecord([cacheDirChecksum(m)]);
          input = { id: `cache:${content}`, selector: '/cache', link: async () => ({ content }) };
        }
      } else {
        const ctx = from.contextDir;
        if (ctx === undefined) return undefined;
        input = { id: 'context', selector: src, link: (sels) => contextContent(ctx, sels, from.ignoring ?? false) };
      }
      if (m.type === 'cache') {
        // The frontend's default id is the target, cleaned; kiln's parser leaves it as written.
        const id = m.id === undefined || m.id === m.target ? path.posix.normalize(t) : m.id;
        const keep = id === dest && (m.sharing ?? 'shared') === 'shared';
        sorted.push({ dest, m: { input: -1, dest, output: -1, ...(m.readonly ? { readonly: true } : {}), mountType: 3, cacheOpt: keep ? { ID: `/${id}` } : {} } , ...(input ? { input } : {}) });
      } else {
        sorted.push({ dest, m: { dest, output: -1, ...(m.readonly ? { readonly: true } : {}) }, input: input! });
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
  // Go's sort.Slice on targets (the root "/" sorts first); inputs numbered in that order, one per distinct state.
  sorted.sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
  const scratch = from.parent === SCRATCH_CHAIN;
  const inputs: Input[] = [];
  for (const s of sorted) {
    if (!s.input) continue;
    let at = inputs.findIndex((i) => i.id === s.input!.id);
    if (at < 0) at = inputs.push({ id: s.input.id, selectors: [], link: s.input.link }) - 1;
    inputs[at]!.selectors.push(s.input.selector);
    const n = at + (scratch ? 0 : 1);
    // pb.Mount's field order: input, selector (cleared), dest, output, readonly, mountType, …; 0 omitted.
    s.m = { ...(n ? { input: n } : {}), ...Object.fromEntries(Object.entries(s.m).filter(([k]) => k !== 'input')) };
  }
  for (const i of inputs) {
    const link = await i.link(i.selectors);
    if (!link) return undefined;
    out.inputs.push(link);
  }
  const root = scratch ? { input: -1, dest: '/' } : { dest: '/' };
  out.mounts = [root, ...sorted.map((s) => s.m), ...secrets, ...ssh];
  return out;
}

/**
 * The root record of the context's content under the bound paths: their checksums, deduplicated as BuildKit's
 * dedupePaths, each followed (contenthash's FollowLinks) but "/" (the whole context).
 */
async function contextContent(contextDir: string, selectors: string[], ignoring: boolean): Promise<InputLink | undefined> {
  const checksums: string[] = [];
  for (const src of dedupePaths(selectors)) {
    const real = src === '/' ? '/' : await followInContext(contextDir, src);
    if (real === undefined) return undefined;
    const abs = path.join(contextDir, real);
    const st = await lstat(abs).catch(() => undefined);
    if (!st || !(st.isFile() || (st.isDirectory() && !ignoring))) return undefined;
    const checksum = await treeChecksum(abs, real === '/');
    if (checksum === undefined) return undefined;
    checksums.push(checksum);
  }
  return { content: contentRecord(checksums) };
}
