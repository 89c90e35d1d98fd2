/**
 * BuildKit's op for a COPY or ADD of one context file or directory in the
 * forms copy-chain.ts leaves out (buildkitd v0.34.2, measured in
 * context-file-op.test.ts):
 * - in a build with a .dockerignore: the client sends the context without
 *   what it excludes, so the content checksum is the tree without those
 *   paths (tree-checksum.ts `kept`); the patterns themselves are in the local
 *   source's op only, which no record names (the content record is the
 *   checksum's). With `!` exceptions, an excluded directory holding a path
 *   that is not excluded is sent with its own header and what it keeps.
 * - on scratch (the stage's first file op): the action's indexes `[[-1,0,0]]`,
 *   and the record links the content only.
 * - ADD of a local file, archive or directory: `attemptUnpackDockerCompatibility`
 *   (the unpacking happens in the op; the key is the archive's bytes);
 *   --chmod (octal: the action's mode) and --chown (copy-action.ts owner),
 *   for ADD and COPY alike.
 * A URL, git source, heredoc, wildcard, several sources, --from, --link,
 * --parents, --exclude, --checksum or a symbolic --chmod: undefined.
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { CopyInstruction } from '../../dockerfile/index.js';
import { contentRecord, rootKey } from './keys.js';
import { resolveDest } from './copy-chain.js';
import { treeChecksum, type Kept } from './tree-checksum.js';
import { copyOpDigest, parseOwner, type Owner } from './copy-action.js';
import type { BuildkitOp } from './step.js';

export interface ContextOpOptions {
  /** The build's .dockerignore, if it has patterns. */
  ignore?: { hasExceptions: boolean; excludes(rel: string): boolean };
  /** The state before is scratch (no op yet). */
  onScratch?: boolean;
}

export async function contextFileOp(inst: CopyInstruction, contextDir: string, cwd: string, opts: ContextOpOptions = {}): Promise<BuildkitOp | undefined> {
  if (inst.from !== undefined || inst.link || inst.parents || inst.exclude.length > 0 || inst.checksum !== undefined || inst.keepGitDir) return undefined;
  const only = inst.sources.length === 1 ? inst.sources[0] : undefined;
  if (only?.kind !== 'path' || /[*?[\\]/.test(only.path) || /^[a-z][a-z0-9+.-]*:\/\//i.test(only.path) || /^git@/.test(only.path)) return undefined;
  let mode: number | undefined;
  if (inst.chmod !== undefined) {
    if (!/^[0-7]+$/.test(inst.chmod) || parseInt(inst.chmod, 8) > 0o7777) return undefined;
    mode = parseInt(inst.chmod, 8);
  }
  let owner: Owner | undefined;
  if (inst.chown !== undefined) {
    owner = parseOwner(inst.chown);
    if (!owner) return undefined;
  }
  const src = path.posix.join('/', only.path);
  const abs = path.join(contextDir, src);
  const st = await lstat(abs).catch(() => undefined);
  if (!st || !(st.isFile() || st.isDirectory())) return undefined;
  if (st.isFile() && only.path.endsWith('/')) return undefined;
  const rel = src.replace(/\/+$/, '').slice(1);
  // An excluded source (or, with exceptions, a directory sent only for what it holds): not named.
  if (opts.ignore && rel !== '' && opts.ignore.excludes(rel)) return undefined;
  const kept: Kept | undefined = opts.ignore && st.isDirectory() ? { rel, excludes: (r) => opts.ignore!.excludes(r), exceptions: opts.ignore.hasExceptions } : undefined;
  const checksum = await treeChecksum(abs, src === '/', kept);
  if (checksum === undefined) return undefined;
  const digest = copyOpDigest(
    {
      src,
      dest: resolveDest(cwd, inst.dest),
      ...(owner ? { owner } : {}),
      ...(mode !== undefined ? { chmod: { mode } } : {}),
      ...(inst.kind === 'add' ? { unpack: true } : {}),
    },
    opts.onScratch === true,
  );
  return { record: rootKey(digest, 0), content: contentRecord([checksum]), ...(opts.onScratch ? { noParent: true as const } : {}) };
}
