/**
 * BuildKit's op for `ADD <git URL>[#ref[:subdir]] <dest>` (the frontend's
 * dispatchCopy, source/git CacheKey, solver/llbsolver/ops/source.go): a copy
 * of "/" of the git source's checkout (`{src:"/", dest, owner?, mode,
 * createDestPath, timestamp, modeStr?}`, url-op.ts sourceCopyAction), its
 * second input the git source's root record with the selector sha256("/").
 * The source's op digest is `sha256("buildkit.source.v0:" + key)`, the key
 * the commit ID, with --keep-git-dir `<object>.git#<ref>` (the object the ref
 * points at: an annotated tag's own ID; the ref in full, refs/heads/… or
 * refs/tags/…, or the commit ID when the ref was one), then `:<subdir>`. The
 * URL is not in it. Not named: --keep-git-dir of the remote's default branch
 * (BuildKit names the branch HEAD points at, kiln does not ask), a subdir,
 * --link, --chown by name on scratch.
 */
import type { CopyInstruction } from '../../dockerfile/index.js';
import type { GitAdd } from '../git-add.js';
import { rootKey, sha256 } from './keys.js';
import { copyIndexes, fileOpDigest, ownSources } from './copy-action.js';
import { goJson } from './go-json.js';
import { sourceCopyAction } from './url-op.js';
import type { BuildkitOp } from './step.js';

/** The git source's cache key (source/git shaToCacheKey), or undefined when kiln cannot say it. */
export function gitSourceKey(g: Pick<GitAdd, 'commit' | 'ref' | 'object' | 'source'>, keepGitDir: boolean): string | undefined {
  if (g.source.subdir !== '') return undefined;
  if (!keepGitDir) return g.commit;
  const ref = g.ref ?? (g.source.ref === g.commit ? g.commit : undefined);
  return ref ? `${g.object}.git#${ref}` : undefined;
}

export function gitFileOp(inst: CopyInstruction, g: GitAdd, cwd: string, onScratch: boolean): BuildkitOp | undefined {
  if (inst.kind !== 'add' || inst.link || inst.sources.length !== 1) return undefined;
  const key = gitSourceKey(g, inst.keepGitDir);
  const action = sourceCopyAction(inst, '/', cwd);
  if (key === undefined || !action) return undefined;
  const record = rootKey(fileOpDigest([goJson(action)], copyIndexes(ownSources(1, onScratch), onScratch)), 0);
  const source = rootKey(sha256(`buildkit.source.v0:${key}`), 0);
  return { record, from: { chain: source, selector: sha256('/'), root: true }, ...(onScratch ? { noParent: true as const } : {}) };
}
