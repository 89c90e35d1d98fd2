/**
 * RUN --mount, prepared on the host as runtime-spec mounts: cache (a
 * directory under the root kept across builds, by id), secret (a private
 * copy of the --secret source with the asked mode and owner, at
 * /run/secrets/ID, never part of a layer or a cache key, unlinked once the
 * step's container has it mounted), bind (from the
 * context, without what .dockerignore excludes, or another stage's
 * filesystem; read-only unless asked), tmpfs.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument, notFound } from '../errors.js';
import { sha256Digest } from '../oci/digest.js';
import { resolveInRoot } from '../layer/tar.js';
import { readSmallSync } from '../util/fsutil.js';
import type { IgnoreMatcher, Mount } from '../dockerfile/index.js';
import { copyKept, holdsIgnored } from './context-view.js';
import type { Mount as SpecMount } from '../runtime/index.js';
import type { SecretSpec, SshSpec } from './types.js';

export interface MountContext {
  root: string;
  /** A private directory for this step (removed by cleanup). */
  scratch: string;
  contextDir: string;
  /** The context's .dockerignore: what it excludes is not in a bind mount of the context. */
  contextIgnore?: IgnoreMatcher;
  secrets: SecretSpec[];
  ssh?: SshSpec[];
  workdir: string;
  /** The filesystem of a stage or image named by from=, and the cache key of that stage or image. */
  fromView(from: string): Promise<{ dir: string; key: string }>;
}

export interface PreparedMounts {
  mounts: SpecMount[];
  env: string[];
  /**
   * Once the step's container has its mounts: the secrets' copies are unlinked
   * (the bind mounts keep them for the step), so a killed build leaves none on disk.
   */
  started(): void;
  cleanup(): Promise<void>;
}

/** A --secret's value, read where the CLI runs (a file or an environment variable). */
export function secretValue(s: SecretSpec): Buffer {
  if (s.value !== undefined) return s.value;
  if (s.env !== undefined) {
    const v = process.env[s.env];
    if (v === undefined) throw notFound(`secret ${s.id}: environment variable ${s.env} is not set`, { hint: `export ${s.env} or pass --secret id=${s.id},src=FILE` });
    return Buffer.from(v);
  }
  const value = readSmallSync(s.src!);
  if (value === undefined) throw notFound(`secret ${s.id}: file ${s.src} does not exist`, { hint: 'pass --secret id=ID,src=FILE with an existing file' });
  return value;
}

/**
 * A new cache directory filled from `source` in a stage's or image's filesystem (a directory;
 * symlinks resolved inside that root): copied next to `dir` and renamed into place, so an
 * interrupted copy never leaves a half-filled cache.
 */
function seedCache(root: string, source: string, dir: string, from: string): void {
  const src = resolveInRoot(root, source.split('/'), { followLast: true });
  const st = lstatSync(src, { throwIfNoEntry: false });
  if (!st?.isDirectory()) {
    throw notFound(`RUN --mount=type=cache: ${source || '/'} is not a directory in "${from}"`, { hint: 'name a directory of that stage or image with source=' });
  }
  const tmp = `${dir}.seed-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(path.dirname(dir), { recursive: true });
  execFileSync('cp', ['-a', '--', src, tmp]);
  renameSync(tmp, dir);
}

export async function prepareMounts(ctx: MountContext, list: Mount[]): Promise<PreparedMounts> {
  const mounts: SpecMount[] = [];
  const env: string[] = [];
  mkdirSync(ctx.scratch, { recursive: true, mode: 0o700 });
  const abs = (t: string) => path.posix.resolve(ctx.workdir, t);
  let sshCount = 0;
  const secretFiles: string[] = [];
  try {
    for (const m of list) {
      const ro = m.readonly ? ['ro'] : [];
      switch (m.type) {
        case 'cache': {
          // With from=, the cache starts as a copy of that stage's or image's source path and is one
          // cache per (id, that stage's result), as BuildKit keys a cache mount by its base and id.
          const base = m.from !== undefined ? await ctx.fromView(m.from) : undefined;
          const name = base ? `${m.id ?? m.target ?? ''}\0${base.key}\0${m.source ?? ''}` : m.id ?? m.target ?? '';
          const dir = path.join(ctx.root, 'buildcache', 'mounts', sha256Digest(name).slice(7, 39));
          if (lstatSync(dir, { throwIfNoEntry: false }) === undefined) {
            if (base) {
              seedCache(base.dir, m.source ?? '', dir, m.from!);
            } else {
              mkdirSync(dir, { recursive: true });
              chmodSync(dir, m.mode ?? 0o755);
              chownSync(dir, m.uid ?? 0, m.gid ?? 0);
            }
          }
          mounts.push({ destination: abs(m.target!), type: 'bind', source: dir, options: ['rbind', ...ro] });
          break;
        }
        case 'secret': {
          const spec = ctx.secrets.find((s) => s.id === m.id);
          if (!spec) {
            if (m.required) throw notFound(`secret ${m.id} is required but was not given`, { hint: `pass --secret id=${m.id},src=FILE` });
            break;
          }
          const value = secretValue(spec);
          if (m.env) env.push(`${m.env}=${value.toString()}`);
          if (m.target !== undefined || !m.env) {
            const file = path.join(ctx.scratch, `secret-${sha256Digest(m.id!).slice(7, 23)}`);
            writeFileSync(file, value, { mode: 0o600 });
            chmodSync(file, m.mode ?? 0o400);
            chownSync(file, m.uid ?? 0, m.gid ?? 0);
            secretFiles.push(file);
            mounts.push({ destination: abs(m.target ?? `/run/secrets/${m.id}`), type: 'bind', source: file, options: ['rbind', 'ro'] });
          }
          break;
        }
        case 'bind': {
          const base = m.from !== undefined ? (await ctx.fromView(m.from)).dir : ctx.contextDir;
          const src = resolveInRoot(base, (m.source ?? '').split('/'), { followLast: true });
          const ignore = m.from === undefined && ctx.contextIgnore?.patterns.length ? ctx.contextIgnore : undefined;
          const real = path.relative(base, src).split(path.sep).join('/');
          if (lstatSync(src, { throwIfNoEntry: false }) === undefined || (ignore && real !== '' && ignore.excludes(real))) {
            throw notFound(`RUN --mount=type=bind: ${m.source ?? '/'} not found in ${m.from ? `"${m.from}"` : `the build context${ignore ? ' (or excluded by .dockerignore)' : ''}`}`);
          }
          let source = src;
          if (ignore && lstatSync(src).isDirectory() && holdsIgnored(src, real, ignore)) {
            // What .dockerignore excludes is left out of a copy (read-write binds get a copy anyway).
            source = path.join(ctx.scratch, `bind-${mounts.length}`);
            copyKept(base, src, real, ignore, source);
          } else if (!m.readonly) {
            // Writes to a read-write bind are discarded (BuildKit's rule): it gets a copy.
            source = path.join(ctx.scratch, `bind-${mounts.length}`);
            execFileSync('cp', ['-a', src, source]);
          }
          mounts.push({ destination: abs(m.target!), type: 'bind', source, options: ['rbind', ...(m.readonly ? ['ro'] : [])] });
          break;
        }
        case 'tmpfs':
          mounts.push({ destination: abs(m.target!), type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : []), ...ro] });
          break;
        case 'ssh': {
          // The host's agent socket, bound into the step (BuildKit proxies it; a
          // bind gives the same agent). Never in the layer: runc mounts it over an
          // empty mount point, and only the id and target reach the cache key.
          const id = m.id ?? 'default';
          const spec = (ctx.ssh ?? []).find((s) => s.id === id);
          if (!spec) {
            if (m.required) throw notFound(`ssh agent "${id}" is required but was not given`, { hint: `pass --ssh ${id}=$SSH_AUTH_SOCK` });
            break;
          }
          const target = abs(m.target ?? `/run/buildkit/ssh_agent.${sshCount++}`);
          mounts.push({ destination: target, type: 'bind', source: spec.socket, options: ['rbind'] });
          env.push(`SSH_AUTH_SOCK=${target}`);
          break;
        }
        default:
          throw invalidArgument(`unknown mount type ${String((m as Mount).type)}`);
      }
    }
  } catch (e) {
    await rm(ctx.scratch, { recursive: true, force: true });
    throw e;
  }
  const started = (): void => {
    for (const f of secretFiles.splice(0)) rmSync(f, { force: true });
  };
  return { mounts, env, started, cleanup: () => rm(ctx.scratch, { recursive: true, force: true }) };
}
