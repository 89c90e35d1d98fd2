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
import { copyActionJson, copyIndexes, fileOpDigest, parseChmodKey, parseOwner, selectorDigest } from './copy-action.js';
import { MERGE_RECORD, pathsContent, pathSources, resolveDest, type FromChain } from './copy-chain.js';
import { SCRATCH_CHAIN } from './step.js';
import { heredocContent, heredocName } from './copy-heredoc.js';
import type { IgnoreTest } from './tree-checksum.js';
import { downloadChecksum, keyedFileName, sourceCopyAction } from './url-op.js';
import type { BuildkitOp, InputLink } from './step.js';

export interface MixedSources {
  contextDir?: string;
  ignore?: IgnoreTest;
  downloads?: Map<string, Downloaded>;
  /** COPY --from: the other state's chain (the paths' input; the heredocs' copies do not read it). */
  from?: FromChain;
  cwd: string;
  onScratch: boolean;
}

/** The instruction is one copy-mixed.ts names rather than copy-chain.ts or url-op.ts: sources of several kinds, or several heredocs. */
export function isMixed(inst: CopyInstruction): boolean {
  const kinds = new Set(inst.sources.map((s) => (s.kind === 'heredoc' ? 'heredoc' : isUrl(s.path) ? 'url' : 'path')));
  const heredocs = inst.sources.filter((s) => s.kind === 'heredoc').length;
  // Heredocs alone with --link or --from (which the frontend's heredoc copies do not read) are named here too.
  return kinds.size > 1 || heredocs > 1 || (heredocs > 0 && heredocs === inst.sources.length && (inst.link || inst.from !== undefined || inst.exclude.length > 0 || inst.parents));
}

export async function mixedFileOp(inst: CopyInstruction, o: MixedSources): Promise<BuildkitOp | undefined> {
  const paths = inst.sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
  const local = paths.filter((p) => !isUrl(p));
  // --from is no input of a heredoc's copy (dispatchCopy reads it for the paths only); --checksum pins the URL's
  // source, not the copy (the copy's link is the download's content).
  if (inst.keepGitDir || (inst.from !== undefined && local.length > 0 && (!o.from || o.from.chain === SCRATCH_CHAIN))) return undefined;
  const owner = inst.chown !== undefined ? parseOwner(inst.chown) : undefined;
  const chmod = inst.chmod !== undefined ? parseChmodKey(inst.chmod) : undefined;
  if ((inst.chown !== undefined && !owner) || (inst.chmod !== undefined && !(chmod && 'mode' in chmod))) return undefined;
  const exclude = inst.exclude.length > 0 ? inst.exclude : undefined;
  const link = inst.link && inst.chmod === undefined && !o.onScratch;
  const bare = link || o.onScratch;
  const dest = resolveDest(o.cwd, inst.dest);
  const actions: string[] = [];
  const secondaries: number[] = [];
  // One input per distinct source state, in order of first use (client/llb addInput): the context's (or --from's)
  // paths share one, a URL written twice is one (its two http sources are the same vertex), as is a heredoc twice.
  const inputs: { key: string; link?: InputLink }[] = [];
  const use = (key: string, link?: InputLink): number => {
    if (!inputs.some((i) => i.key === key)) inputs.push({ key, ...(link ? { link } : {}) });
    return inputs.findIndex((i) => i.key === key) + (bare ? 0 : 1);
  };
  const sources = pathSources(inst, local);
  for (const p of paths) {
    if (isUrl(p)) {
      const d = o.downloads?.get(p);
      const name = keyedFileName(p);
      if (!d || !d.st.isFile() || !name || name !== d.name) return undefined;
      const action = sourceCopyAction(inst, name, o.cwd, exclude);
      if (!action) return undefined;
      actions.push(goJson(action));
      secondaries.push(use(`url ${p}`, { content: contentRecord([await downloadChecksum({ abs: d.abs, size: d.st.size })]) }));
    } else {
      const s = sources[local.indexOf(p)]!;
      actions.push(copyActionJson({ ...s, dest, ...(owner ? { owner } : {}), ...(chmod ? { chmod } : {}), ...(inst.kind === 'add' ? { unpack: true } : {}), ...(exclude ? { excludePatterns: exclude } : {}) }));
      secondaries.push(use('paths'));
    }
  }
  for (const s of inst.sources) {
    if (s.kind !== 'heredoc') continue;
    const name = heredocName(s.heredoc);
    if (!name) return undefined;
    actions.push(copyActionJson({ src: `/${name}`, dest, heredoc: true, ...(owner ? { owner } : {}), ...(chmod ? { chmod } : {}), ...(exclude ? { excludePatterns: exclude } : {}) }));
    secondaries.push(use(`heredoc ${name}\n${s.heredoc.content}`, { content: heredocContent(s.heredoc) }));
  }
  if (actions.length === 0) return undefined;
  let pathsLink: InputLink | undefined;
  if (local.length > 0 && inst.from !== undefined) {
    pathsLink = { from: { ...o.from!, selector: selectorDigest(sources.map((s) => s.src)) } };
  } else if (local.length > 0) {
    if (o.contextDir === undefined) return undefined;
    const content = await pathsContent(o.contextDir, inst, local, o.ignore);
    if (!content) return undefined;
    pathsLink = { content };
  }
  const links = inputs.map((i) => i.link ?? pathsLink!);
  const record = rootKey(fileOpDigest(actions, copyIndexes(secondaries, bare)), 0);
  if (link) return { record: MERGE_RECORD, onScratch: { record, inputs: links } };
  return { record, inputs: links, ...(o.onScratch ? { noParent: true as const } : {}) };
}
