/**
 * Git sources, as BuildKit reads them, for `kiln build URL` and `ADD URL`:
 *   https://host/path/repo.git[#ref][:subdir]   (http too; the path must end in .git)
 *   git@host:path/repo.git[#ref][:subdir]       ssh://[user@]host/path[#…]   git://host/path[#…]
 * `ref` is a branch, a tag or a commit (default: the remote's HEAD); `subdir`
 * a directory inside the repository. Done with the machine's git (Debian's):
 * the commit is resolved first (`git ls-remote`, nothing downloaded, so a
 * cached ADD costs one round trip), then fetched with depth 1 into a fresh
 * repository, checked out, submodules too; `.git` is removed unless kept
 * (`ADD --keep-git-dir`). Credentials are git's own (credential helpers,
 * ssh-agent); git never prompts.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { invalidArgument, notFound, unavailable } from '../errors.js';
import { pathExists, pathStat } from '../util/fsutil.js';

export interface GitSource {
  /** What git is given: the URL without its fragment. */
  remote: string;
  /** Branch, tag or commit; undefined: the remote's HEAD. */
  ref?: string;
  /** A directory inside the repository ('' for its root). */
  subdir: string;
}

const SCP_LIKE = /^[\w.-]+@[\w.-]+:(?!\/\/)/;

/** Whether `s` names a git repository (BuildKit's rules: a git scheme, scp-like ssh, or an http(s) path ending in .git). */
export function isGitUrl(s: string): boolean {
  if (/^(git|ssh):\/\//i.test(s) || SCP_LIKE.test(s)) return true;
  const m = /^https?:\/\/[^#]+/i.exec(s);
  return m !== null && /\.git\/?$/.test(new URL(m[0]).pathname);
}

export function parseGitUrl(s: string): GitSource {
  const hash = s.indexOf('#');
  const remote = hash < 0 ? s : s.slice(0, hash);
  const fragment = hash < 0 ? '' : s.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = (colon < 0 ? fragment : fragment.slice(0, colon)) || undefined;
  const rawSub = colon < 0 ? '' : fragment.slice(colon + 1);
  const subdir = path.posix.normalize(rawSub || '.').replace(/^\/+|\/+$/g, '');
  if (subdir === '..' || subdir.startsWith('../')) throw invalidArgument(`${s}: the subdirectory ${rawSub} leaves the repository`);
  if (ref !== undefined && (ref.startsWith('-') || /\s/.test(ref))) throw invalidArgument(`${s}: ${ref} is not a git ref`);
  return { remote, ref, subdir: subdir === '.' ? '' : subdir };
}

/** git with a terminal prompt never shown (a missing credential fails instead of waiting). */
async function git(args: string[], opts: { cwd?: string; signal?: AbortSignal } = {}): Promise<string> {
  try {
    // promisify(execFile) here, not at import: `kiln build` imports this file for isGitUrl, and the packaged
    // executable then loads no child_process for a build that runs no git (scripts/sea-loader.cjs LAZY).
    const r = await promisify(execFile)('git', args, { cwd: opts.cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' }, maxBuffer: 16 << 20, ...(opts.signal ? { signal: opts.signal } : {}) });
    return r.stdout;
  } catch (e) {
    const x = e as NodeJS.ErrnoException & { stderr?: string };
    if (x.code === 'ENOENT') throw unavailable('git is not installed', { hint: 'install git (apt-get install git)' });
    if (x.name === 'AbortError') throw e;
    const msg = (x.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? x.message;
    throw unavailable(`git ${args[0]}: ${msg}`, { cause: e });
  }
}

const isCommit = (ref: string | undefined): ref is string => ref !== undefined && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(ref);

/** The commit `src.ref` names on the remote (a commit ID is taken as it is). */
export async function resolveCommit(src: GitSource, signal?: AbortSignal): Promise<string> {
  return (await resolveGitRef(src, signal)).commit;
}

/**
 * What `src.ref` names on the remote: the commit (an annotated tag peeled), the full ref it was found as
 * (`refs/heads/…` first, as git checkout prefers; with no ref, the branch the remote's HEAD points at; none
 * for a commit ID or a HEAD that is no branch) and the object that ref points at (the tag object for an
 * annotated tag, else the commit).
 */
export async function resolveGitRef(src: GitSource, signal?: AbortSignal): Promise<{ commit: string; ref?: string; object: string }> {
  if (isCommit(src.ref)) return { commit: src.ref, object: src.ref };
  const ref = src.ref ?? 'HEAD';
  let out: string;
  try {
    // No ref: the branch the remote's HEAD points at (--symref), as BuildKit names it (refs/heads/<default>).
    out = await git(['ls-remote', ...(ref === 'HEAD' ? ['--symref'] : []), '--', src.remote, ref, `${ref}^{}`], { signal });
  } catch (e) {
    throw unavailable(`${src.remote}: ${(e as Error).message}`, { cause: e, hint: 'check the URL and your git credentials' });
  }
  const refs = new Map(out.split('\n').flatMap((l) => (l.includes('\t') && !l.startsWith('ref: ') ? [[l.split('\t')[1]!, l.split('\t')[0]!] as const] : [])));
  const found = (name: string) => {
    const object = refs.get(name);
    return object ? { commit: refs.get(`${name}^{}`) ?? object, ...(name !== 'HEAD' ? { ref: name } : {}), object } : undefined;
  };
  const head = ref === 'HEAD' ? /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(out)?.[1] : undefined;
  const atHead = ref === 'HEAD' ? found('HEAD') : undefined;
  const pick = atHead ? { ...atHead, ...(head ? { ref: head } : {}) } : ref === 'HEAD' ? undefined : found(`refs/heads/${ref}`) ?? found(`refs/tags/${ref}`) ?? found(ref);
  if (!pick) throw notFound(`${src.remote}: no branch or tag ${ref}`, { hint: 'check the ref after # (a branch, a tag or a full commit ID)' });
  return pick;
}

/**
 * Checks `commit` out into `dir` (made by git; it must not exist); answers the directory the source
 * names (`dir` or its subdir). `.git` stays only with `keepGitDir`.
 */
export async function checkoutGit(src: GitSource, commit: string, dir: string, opts: { keepGitDir?: boolean; signal?: AbortSignal } = {}): Promise<string> {
  const o = { cwd: dir, ...(opts.signal ? { signal: opts.signal } : {}) };
  await git(['init', '-q', dir], opts.signal ? { signal: opts.signal } : {});
  await git(['remote', 'add', 'origin', src.remote], o);
  try {
    await git(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', commit], o);
  } catch {
    // A server that refuses a commit ID in a fetch: fetch what the ref names (or everything) instead.
    await git(['fetch', '-q', '--no-tags', 'origin', ...(src.ref && !isCommit(src.ref) ? [src.ref] : [])], o);
  }
  await git(['-c', 'advice.detachedHead=false', 'checkout', '-q', commit], o);
  if (await pathExists(path.join(dir, '.gitmodules'))) await git(['submodule', 'update', '-q', '--init', '--recursive', '--depth', '1'], o);
  if (!opts.keepGitDir) await rm(path.join(dir, '.git'), { recursive: true, force: true });
  const sub = path.join(dir, src.subdir);
  if (!(await pathStat(sub))?.isDirectory()) throw notFound(`${src.remote}: no directory ${src.subdir} at ${commit.slice(0, 12)}`);
  return sub;
}

