/**
 * BuildKit's op for a COPY or ADD whose sources are not all of one kind: URLs
 * beside context paths (`ADD <url> f.txt /d/`), heredocs beside paths, or
 * several heredocs (`COPY <<A <<B /d/`). The frontend (v0.34.2 dispatchCopy)
 * writes one copy action per source: the paths in the order written (a URL
 * from its own http source, ./url-op.ts; a context path from the context, as
 * ./copy-chain.ts), then each heredoc from its own mkfile on scratch
 * (./copy-heredoc.ts). client/llb numbers the op's inputs in order of first
 * use after the state before: every context path shares one input, each URL
 * and heredoc has its own (copy-action.ts copyIndexes). The record links each
 * input by its content record: the download's, the context paths' together,
 * the heredoc's file. With --link (no --chmod) the copy is onto scratch and
 * BuildKit's merge puts it on the state before, as for any COPY. A heredoc
 * copy has no --from input: `COPY --from=x <<EOF /d` is the op without it.
 */
import type { CopyInstruction } from '../../dockerfile/index.js';
import { isUrl, type Downloaded } from '../remote.js';
import { goJson } from './go-json.js';
import { contentRecord, rootKey } from './keys.js';
import { copyActionJson, copyIndexes, fileOpDigest, parseChmodKey, parseOwner } from './copy-action.js';
import { localContent, MERGE_RECORD, normalizeSource, resolveDest } from './copy-chain.js';
import { hasWildcard } from './copy-content.js';
import { heredocContent, heredocName } from './copy-heredoc.js';
import type { IgnoreTest } from './tree-checksum.js';
import { downloadChecksum, keyedFileName, sourceCopyAction } from './url-op.js';
import type { BuildkitOp, InputLink } from './step.js';

export interface MixedSources {
  contextDir?: string;
  ignore?: IgnoreTest;
  downloads?: Map<string, Downloaded>;
  cwd: string;
  onScratch: boolean;
}

/** The instruction is one copy-mixed.ts names rather than copy-chain.ts or url-op.ts: sources of several kinds, or several heredocs. */
export function isMixed(inst: CopyInstruction): boolean {
  const kinds = new Set(inst.sources.map((s) => (s.kind === 'heredoc' ? 'heredoc' : isUrl(s.path) ? 'url' : 'path')));
  const heredocs = inst.sources.filter((s) => s.kind === 'heredoc').length;
  // Heredocs alone with --link or --from (which the frontend's heredoc copies do not read) are named here too.
  return kinds.size > 1 || heredocs > 1 || (heredocs > 0 && heredocs === inst.sources.length && (inst.link || inst.from !== undefined));
}

export async function mixedFileOp(inst: CopyInstruction, o: MixedSources): Promise<BuildkitOp | undefined> {
  const paths = inst.sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
  // --from is no input of a heredoc's copy (dispatchCopy reads it for paths only); beside paths, patterns, --parents and --checksum are not measured.
  if ((inst.from !== undefined && paths.length > 0) || inst.parents || inst.exclude.length > 0 || inst.checksum !== undefined || inst.keepGitDir) return undefined;
  const owner = inst.chown !== undefined ? parseOwner(inst.chown) : undefined;
  const chmod = inst.chmod !== undefined ? parseChmodKey(inst.chmod) : undefined;
  if ((inst.chown !== undefined && !owner) || (inst.chmod !== undefined && !(chmod && 'mode' in chmod))) return undefined;
  const link = inst.link && inst.chmod === undefined && !o.onScratch;
  const bare = link || o.onScratch;
  const dest = resolveDest(o.cwd, inst.dest);
  const actions: string[] = [];
  const secondaries: number[] = [];
  const inputs: (InputLink | 'context')[] = [];
  const local: string[] = [];
  for (const p of paths) {
    if (isUrl(p)) {
      const d = o.downloads?.get(p);
      const name = keyedFileName(p);
      // The same URL twice would be one input (not measured).
      if (!d || !d.st.isFile() || !name || name !== d.name || paths.indexOf(p) !== paths.lastIndexOf(p)) return undefined;
      const action = sourceCopyAction(inst, name, o.cwd);
      if (!action) return undefined;
      actions.push(goJson(action));
      inputs.push({ content: contentRecord([await downloadChecksum({ abs: d.abs, size: d.st.size })]) });
      secondaries.push(inputs.length - 1 + (bare ? 0 : 1));
    } else {
      // ADD's unpacking of a wildcard's matches is not measured.
      if (inst.kind === 'add' && hasWildcard(p)) return undefined;
      actions.push(copyActionJson({ src: normalizeSource(p), dest, ...(owner ? { owner } : {}), ...(chmod ? { chmod } : {}), ...(inst.kind === 'add' ? { unpack: true } : {}) }));
      local.push(p);
      if (!inputs.includes('context')) inputs.push('context');
      secondaries.push(inputs.indexOf('context') + (bare ? 0 : 1));
    }
  }
  for (const s of inst.sources) {
    if (s.kind !== 'heredoc') continue;
    const name = heredocName(s.heredoc);
    if (!name) return undefined;
    actions.push(copyActionJson({ src: `/${name}`, dest, heredoc: true, ...(owner ? { owner } : {}), ...(chmod ? { chmod } : {}) }));
    inputs.push({ content: heredocContent(s.heredoc) });
    secondaries.push(inputs.length - 1 + (bare ? 0 : 1));
  }
  if (actions.length === 0) return undefined;
  let context: string | undefined;
  if (local.length > 0) {
    if (o.contextDir === undefined) return undefined;
    context = await localContent(o.contextDir, local, o.ignore);
    if (!context) return undefined;
  }
  const links = inputs.map((i) => (i === 'context' ? { content: context! } : i));
  const record = rootKey(fileOpDigest(actions, copyIndexes(secondaries, bare)), 0);
  if (link) return { record: MERGE_RECORD, onScratch: { record, inputs: links } };
  return { record, inputs: links, ...(o.onScratch ? { noParent: true as const } : {}) };
}
