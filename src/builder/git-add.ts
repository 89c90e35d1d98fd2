/**
 * `ADD [--keep-git-dir] [--checksum=COMMIT] https://host/repo.git#ref:subdir /dst` (or git@…, ssh://,
 * git://), as BuildKit: the repository's tree at the commit the ref names is copied into /dst, owned by
 * root unless --chown, `.git` only with --keep-git-dir. The cache key holds the URL, the commit, the
 * subdir and --keep-git-dir: the commit is resolved before the cache lookup (`git ls-remote`), the
 * checkout happens on a miss. `--checksum` is the commit ID the ref must name.
 */
import path from 'node:path';
import { dataLoss, invalidArgument } from '../errors.js';
import type { CopyInstruction } from '../dockerfile/index.js';
import { sha256Digest } from '../oci/digest.js';
import { checkoutGit, isGitUrl, parseGitUrl, resolveGitRef, type GitSource } from './git.js';
import { stepLocated } from './step-error.js';

export interface GitAdd {
  url: string;
  source: GitSource;
  commit: string;
  /** The full ref the commit was found as (refs/heads/…, refs/tags/…; the default branch for no ref; none for a commit ID). */
  ref?: string;
  /** What that ref points at: a tag object for an annotated tag, else the commit. */
  object: string;
  hash: string;
}

/** The ADD's git source, resolved to a commit; undefined when it has none. */
export async function gitAddSource(inst: CopyInstruction, signal?: AbortSignal): Promise<GitAdd | undefined> {
  if (inst.kind !== 'add') return undefined;
  const urls = inst.sources.flatMap((x) => (x.kind === 'path' && isGitUrl(x.path) ? [x.path] : []));
  if (urls.length === 0) return undefined;
  const url = urls[0]!;
  try {
    if (inst.sources.length > 1) throw invalidArgument(`ADD ${url}: a git repository must be the only source of its ADD`, { hint: 'use one ADD per repository' });
    const source = parseGitUrl(url);
    const { commit, ref, object } = await resolveGitRef(source, signal);
    if (inst.checksum !== undefined && inst.checksum !== commit) {
      throw dataLoss(`ADD ${url}: checksum mismatch: got ${commit}, expected ${inst.checksum}`, { hint: 'for a git source --checksum is the full commit ID the ref must name' });
    }
    const hash = sha256Digest(JSON.stringify({ git: source.remote, commit, subdir: source.subdir, keepGitDir: inst.keepGitDir }));
    return { url, source, commit, ...(ref ? { ref } : {}), object, hash };
  } catch (e) {
    throw stepLocated(e, inst);
  }
}

/** Checks the commit out under `scratch`; answers the directory whose contents the ADD copies. */
export async function checkoutGitAdd(g: GitAdd, scratch: string, inst: CopyInstruction, signal?: AbortSignal): Promise<string> {
  try {
    return await checkoutGit(g.source, g.commit, path.join(scratch, 'repo'), { keepGitDir: inst.keepGitDir, ...(signal ? { signal } : {}) });
  } catch (e) {
    throw stepLocated(e, inst);
  }
}
