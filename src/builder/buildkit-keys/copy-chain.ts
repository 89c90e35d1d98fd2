/**
 * BuildKit's op for a COPY (of a heredoc: ./copy-heredoc.ts) or an ADD of one local path:
 * one copy action per source (./copy-action.ts) with --chown, --chmod,
 * --exclude and --parents as the frontend writes them, ADD's with
 * `attemptUnpackDockerCompatibility` (an archive is unpacked in the op: the
 * key is its bytes). From the build context the record links the state before
 * (no selector) and the root record of the sources' content checksum
 * (./copy-content.ts: files, directories, wildcards; ./copy-filtered.ts: with
 * patterns), so the bytes and modes decide it, never times or owners. Under a
 * .dockerignore the client sends the context without what it excludes, so a
 * directory's checksum is the tree without those paths (./tree-checksum.ts
 * `kept`; the patterns enter only the local source's op, which no record
 * names). With --from it links the other stage's (or image's) chain, its
 * selector the sources' paths: no file is read. With --link (and no --chmod)
 * the copy is onto scratch and a merge op puts it on the state before.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseIgnore, type CopyInstruction, type IgnoreMatcher } from '../../dockerfile/index.js';
import type { IgnoreTest } from './tree-checksum.js';
import { contentRecord, rootKey, sha256 } from './keys.js';
import { copyActionJson, copyIndexes, fileOpDigest, sameSource, parseChmodKey, parseOwner, selectorDigest, type CopyActionFields } from './copy-action.js';
import { hasWildcard, sourceChecksums } from './copy-content.js';
import { filteredChecksum } from './copy-filtered.js';
import { heredocContent, heredocName } from './copy-heredoc.js';
import { SCRATCH_CHAIN, type BuildkitOp, type FromLink } from './step.js';
import { goJson } from './go-json.js';

/** COPY --link's merge op (v0.34.2): its inputs the state before and the copy onto scratch, as measured. */
export const MERGE_RECORD = rootKey(sha256(goJson({ Type: 'buildkit.merge.v0', Merge: { inputs: [{}, { input: 1 }] } })), 0);

/** `p` against `cwd` as BuildKit's NormalizePath with keepSlash: joined, cleaned, a trailing "/" kept. */
export function resolveDest(cwd: string, p: string): string {
  if (p === '.' || p === '') p = './';
  let out = p.startsWith('/') ? path.posix.join('/', p) : path.posix.join(cwd || '/', p);
  if (p.endsWith('/') && !out.endsWith('/')) out += '/';
  else if (p.endsWith('/.')) out = (out === '/' ? '/' : out + '/') + '.';
  return out;
}

/** A source as the frontend normalizes it (NormalizePath("/", src), no slash kept): `src/` → `/src`, `.` → `/`. */
export const normalizeSource = (p: string): string => path.posix.join('/', p).replace(/(.)\/+$/, '$1');

/** The chain name of a --from state; `root`: an image's (a root record, no inputs). */
export interface FromChain {
  chain: string;
  root: boolean;
}

export interface CopyOpOptions {
  /** The build's .dockerignore, when it has patterns. */
  ignore?: IgnoreTest;
  /** With --from: the chain name of that stage's state or image (undefined: not named). */
  from?: FromChain;
  /** The state before is an empty scratch stage's (the copy's only input is then its sources'). */
  onScratch?: boolean;
}

/**
 * ADD is named here for local paths and a heredoc (not a URL or git source: ./url-op.ts, ./git-op.ts), wildcards too (BuildKit
 * unpacks each archive a pattern matches, as kiln does), several paths, --link, --exclude and --chmod as COPY's (an
 * archive's files keep their modes in both); not --checksum.
 */
function addNamed(inst: CopyInstruction): boolean {
  if (inst.sources.length === 0 || inst.sources.some((s) => s.kind === 'path' && (/\\/.test(s.path) || /^[a-z][a-z0-9+.-]*:\/\//i.test(s.path) || /^git@/.test(s.path)))) return false;
  return !inst.parents && inst.checksum === undefined && !inst.keepGitDir;
}

export async function copyOp(inst: CopyInstruction, contextDir: string, cwd: string, opts: CopyOpOptions = {}): Promise<BuildkitOp | undefined> {
  const { ignore, from: fromChain, onScratch = false } = opts;
  if (inst.kind === 'add' && !addNamed(inst)) return undefined;
  // --link with --chmod is a plain copy onto the state in BuildKit's frontend (no merge); onto scratch none is (a merge with scratch is its other input).
  const link = inst.link && inst.chmod === undefined && !onScratch;
  const owner = inst.chown !== undefined ? parseOwner(inst.chown) : undefined;
  const chmod = inst.chmod !== undefined ? parseChmodKey(inst.chmod) : undefined;
  if ((inst.chown !== undefined && !owner) || (inst.chmod !== undefined && !chmod)) return undefined;
  const dest = resolveDest(cwd, inst.dest);
  const only = inst.sources.length === 1 ? inst.sources[0] : undefined;
  if (only?.kind === 'heredoc') {
    // One heredoc, no --link, --from, --exclude or --parents: a copy of the mkfile's `/<name>` (./copy-heredoc.ts).
    const name = heredocName(only.heredoc);
    if (!name || inst.link || inst.from !== undefined || inst.exclude.length > 0 || inst.parents) return undefined;
    const action = copyActionJson({ src: `/${name}`, dest, heredoc: true, ...(owner ? { owner } : {}), ...(chmod ? { chmod } : {}) });
    return { record: rootKey(fileOpDigest([action], copyIndexes(sameSource(1, onScratch), onScratch)), 0), content: heredocContent(only.heredoc) };
  }
  if (inst.sources.length === 0 || inst.sources.some((s) => s.kind !== 'path')) return undefined;
  const raw = inst.sources.map((s) => (s as { path: string }).path);
  const sources = pathSources(inst, raw);
  const srcs = sources.map((s) => s.src);
  const exclude = inst.exclude.length > 0 ? inst.exclude : undefined;
  const fields = (s: Source): CopyActionFields => ({
    ...s,
    dest,
    ...(owner ? { owner } : {}),
    ...(chmod ? { chmod } : {}),
    ...(inst.kind === 'add' ? { unpack: true } : {}),
    ...(exclude ? { excludePatterns: exclude } : {}),
  });
  // With --link the copy is onto scratch: its only input is the sources'.
  const bare = link || onScratch;
  const record = rootKey(fileOpDigest(sources.map((s) => copyActionJson(fields(s))), copyIndexes(sameSource(srcs.length, bare), bare)), 0);
  const op = (source: { content: string } | { from: FromLink }): BuildkitOp => (link ? { record: MERGE_RECORD, onScratch: { record, ...source } } : { record, ...source });
  if (inst.from !== undefined) return fromChain && fromChain.chain !== SCRATCH_CHAIN ? op({ from: { ...fromChain, selector: selectorDigest(srcs) } }) : undefined;
  const content = await pathsContent(contextDir, inst, raw, ignore);
  return content ? op({ content }) : undefined;
}

/** The context paths of a COPY or ADD (as written) as its actions copy them: `src`, and --parents' include pattern and required path. */
export const pathSources = (inst: CopyInstruction, raw: string[]): Source[] => raw.map((r) => (inst.parents ? parentsSource(r) : { src: normalizeSource(r) }));

/** The content record of an instruction's context paths (`raw`, as written), with its --parents and --exclude patterns; undefined when kiln cannot say. */
export async function pathsContent(contextDir: string, inst: CopyInstruction, raw: string[], ignore: IgnoreTest | undefined): Promise<string | undefined> {
  if (!inst.parents && inst.exclude.length === 0) return localContent(contextDir, raw, ignore);
  if (!(await sentAsWritten(contextDir, raw, ignore))) return undefined;
  const sums = await filteredChecksums(contextDir, pathSources(inst, raw), inst.exclude.length > 0 ? inst.exclude : undefined, ignore !== undefined);
  return sums && contentRecord(sums);
}

/** Every source is sent as written: a name with a trailing slash is a directory (else Docker fails the step), none is excluded by the .dockerignore. */
async function sentAsWritten(contextDir: string, raw: string[], ignore: IgnoreTest | undefined): Promise<boolean> {
  const srcs = raw.map(normalizeSource);
  for (let i = 0; i < raw.length; i++) {
    if (!raw[i]!.endsWith('/') || hasWildcard(srcs[i]!)) continue;
    const st = await stat(path.join(contextDir, srcs[i]!)).catch(() => undefined);
    if (!st?.isDirectory()) return false;
  }
  return !(ignore && srcs.some((s) => s !== '/' && !hasWildcard(s) && ignore.excludes(s.slice(1))));
}

/** The root record of the content of context sources (as written: `src/`, `*.txt`, `.`) one file op copies, undefined when kiln cannot say. */
export async function localContent(contextDir: string, raw: string[], ignore?: IgnoreTest): Promise<string | undefined> {
  if (!(await sentAsWritten(contextDir, raw, ignore))) return undefined;
  const sums = await sourceChecksums(contextDir, raw.map(normalizeSource), ignore);
  return sums && contentRecord(sums);
}

export interface Source {
  src: string;
  includePatterns?: string[];
  requiredPaths?: string[];
}

/**
 * A --parents source as the frontend splits it: `dir/./pattern` copies
 * `pattern` (an include pattern) of `dir`, a source with no `/./` is an
 * include pattern of the context's root; the path it names must exist when
 * neither part has a wildcard.
 */
function parentsSource(raw: string): Source {
  const at = raw.indexOf('/./');
  const [dir, pattern] = at < 0 ? ['/', raw] : [raw.slice(0, at), raw.slice(at + 3)];
  const include = path.posix.join('/', pattern).slice(1);
  const src = normalizeSource(dir);
  const required = hasWildcard(dir) || hasWildcard(pattern) ? [] : [path.posix.join(src, include)];
  return { src, includePatterns: [include], ...(required.length ? { requiredPaths: required } : {}) };
}

/** With include or exclude patterns every source is its own selector (none deduplicated), in path order. */
async function filteredChecksums(contextDir: string, sources: Source[], exclude: string[] | undefined, ignoring: boolean): Promise<string[] | undefined> {
  if (ignoring) return undefined;
  const ex = exclude ? patterns(exclude) : undefined;
  if (ex === null) return undefined;
  const out: string[] = [];
  for (const s of [...sources].sort((a, b) => Buffer.compare(Buffer.from(a.src), Buffer.from(b.src)))) {
    if (hasWildcard(s.src)) return undefined;
    const include = s.includePatterns ? patterns(s.includePatterns) : undefined;
    if (include === null) return undefined;
    const sum = await filteredChecksum(contextDir, s.src, { ...(include ? { include } : {}), ...(ex ? { exclude: ex } : {}) });
    if (sum === undefined) return undefined;
    out.push(sum);
  }
  return out;
}

/** Patterns as .dockerignore's (BuildKit's patternmatcher); null for one kiln cannot parse (the step says why, not the key). */
function patterns(list: string[]): IgnoreMatcher | null {
  try {
    return parseIgnore(list.join('\n'), 'COPY patterns');
  } catch {
    return null;
  }
}
