/**
 * BuildKit's op for `ADD <git URL>[#ref[:subdir]] <dest>` (the frontend's
 * dispatchCopy, source/git CacheKey, solver/llbsolver/ops/source.go): a copy
 * of "/" of the git source's checkout (`{src:"/", dest, owner?, mode,
 * createDestPath, timestamp, modeStr?}`, url-op.ts sourceCopyAction), its
 * second input the git source's root record with the selector sha256("/").
 * The source's op digest is `sha256("buildkit.source.v0:" + key)`, the key
 * the commit ID, with --keep-git-dir `<object>.git#<ref>` (the object the ref
 * points at: an annotated tag's own ID; the ref in full, refs/heads/… or
 * refs/tags/…, or the commit ID when the ref was one; with no ref the branch
 * the remote's HEAD points at, `refs/heads/<default>`), then `:<subdir>`
 * normalized (util/gitutil parseOpts: `sub/` and `./sub` are `sub`). The URL is not in it. With --link (no --chmod) the copy
 * is onto scratch and BuildKit's merge puts it on the state before. Not named:
 * --chown by name on scratch.
 */
import type { CopyInstruction } from '../../dockerfile/index.js';
import type { GitAdd } from '../git-add.js';
import { rootKey, sha256 } from './keys.js';
import { copyIndexes, fileOpDigest, ownSources } from './copy-action.js';
import { goJson } from './go-json.js';
import { sourceCopyAction } from './url-op.js';
import { MERGE_RECORD } from './copy-chain.js';
import type { BuildkitOp } from './step.js';

/** The git source's cache key (source/git shaToCacheKey), or undefined when kiln cannot say it. */
export function gitSourceKey(g: Pick<GitAdd, 'commit' | 'ref' | 'object' | 'source' | 'url'>, keepGitDir: boolean): string | undefined {
  // The subdir normalized as BuildKit's gitutil parseOpts does (path.Join("/", sub) less the leading "/": `sub/`,
  // `./sub` and `/sub` are `sub`), which is kiln's (git.ts).
  const subdir = g.source.subdir ? `:${g.source.subdir}` : '';
  if (!keepGitDir) return g.commit + subdir;
  const ref = g.ref ?? (g.source.ref === g.commit ? g.commit : undefined);
  return ref ? `${g.object}.git#${ref}${subdir}` : undefined;
}

export function gitFileOp(inst: CopyInstruction, g: GitAdd, cwd: string, onScratch: boolean): BuildkitOp | undefined {
  if (inst.kind !== 'add' || inst.sources.length !== 1) return undefined;
  const key = gitSourceKey(g, inst.keepGitDir);
  const action = sourceCopyAction(inst, '/', cwd);
  if (key === undefined || !action) return undefined;
  const link = inst.link && inst.chmod === undefined && !onScratch;
  const bare = link || onScratch;
  const record = rootKey(fileOpDigest([goJson(action)], copyIndexes(ownSources(1, bare), bare)), 0);
  const from = { chain: rootKey(sha256(`buildkit.source.v0:${key}`), 0), selector: sha256('/'), root: true };
  if (link) return { record: MERGE_RECORD, onScratch: { record, from } };
  return { record, from, ...(onScratch ? { noParent: true as const } : {}) };
}
