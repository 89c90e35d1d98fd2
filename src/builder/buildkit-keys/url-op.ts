/**
 * BuildKit's op for `ADD <http(s) URL> <dest>` (buildkitd v0.34.2, measured in
 * url-op.test.ts): the frontend names the file after the URL's last path
 * segment (Go's path.Base of the URL path, "__unnamed__" when none) and
 * copies it from an http source with `{src, dest, owner?, mode, createDestPath,
 * timestamp}` (no wildcard, no symlink following, no unpacking). The copy's
 * record links the http source's record (`sha256("buildkit.source.v0:" +
 * sha256(json {Filename, Perm, UID, GID, Checksum, LastModTime?}))`, with the
 * selector of the file's path) or, as the other choice of that input, the
 * content record of the downloaded file: mode 0600, owned 0:0, its bytes.
 * kiln names the step by the content record (the same whether --checksum
 * pinned the source or not), and its --cache-to writes that link.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { CopyInstruction } from '../../dockerfile/index.js';
import { urlFileName, type Downloaded } from '../remote.js';
import { goJson } from './go-json.js';
import { contentRecord, fileHeader, rootKey } from './keys.js';
import { resolveDest } from './copy-chain.js';
import { chownOf, copyIndexes, fileOpDigest, parseChmodKey, type ChownJson } from './copy-action.js';
import type { BuildkitOp } from './step.js';

/** The file name BuildKit's frontend gives a URL's download (remote.ts urlFileName), when kiln names the step: plain characters. */
export function keyedFileName(url: string): string | undefined {
  let name: string;
  try {
    name = urlFileName(url);
  } catch {
    return undefined;
  }
  return /^[A-Za-z0-9._+-]+$/.test(name) ? name : undefined;
}

/** The content checksum of a downloaded file as BuildKit's http source leaves it (0600, root-owned). */
export async function downloadChecksum(d: { abs: string; size: number }): Promise<string> {
  const h = createHash('sha256').update(fileHeader({ mode: 0o600, uid: 0, gid: 0, size: d.size }));
  for await (const chunk of createReadStream(d.abs)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/**
 * The copy action the frontend makes for a source it does not read from the context (an http download, a git
 * checkout): `{src, dest, owner?, mode, createDestPath, timestamp, modeStr?}`; a symbolic --chmod is `modeStr`
 * (mode 0, left out), none is mode -1; --exclude's patterns after the time. Undefined for a --chmod or --chown kiln cannot say.
 */
export function sourceCopyAction(inst: CopyInstruction, src: string, cwd: string, exclude?: string[]): object | undefined {
  const chmod = inst.chmod !== undefined ? parseChmodKey(inst.chmod) : undefined;
  if (inst.chmod !== undefined && (!chmod || ('mode' in chmod && chmod.mode === 0))) return undefined;
  let owner: ChownJson | undefined;
  if (inst.chown !== undefined) {
    owner = chownOf(inst.chown);
    if (!owner) return undefined;
  }
  const mode = chmod === undefined ? -1 : 'mode' in chmod ? chmod.mode : 0;
  return { src, dest: resolveDest(cwd, inst.dest), ...(owner ? { owner } : {}), ...(mode ? { mode } : {}), createDestPath: true, timestamp: -1, ...(exclude?.length ? { exclude_patterns: exclude } : {}), ...(chmod && 'modeStr' in chmod ? { modeStr: chmod.modeStr } : {}) };
}

/** ADD of one or more http(s) URLs (nothing else), each copied from its download, in the order written. */
export async function urlFileOp(inst: CopyInstruction, downloads: Map<string, Downloaded>, cwd: string, onScratch: boolean): Promise<BuildkitOp | undefined> {
  if (inst.kind !== 'add' || inst.from !== undefined || inst.link || inst.parents || inst.exclude.length > 0 || inst.sources.length === 0) return undefined;
  const urls = inst.sources.map((x) => (x.kind === 'path' ? x.path : ''));
  // A URL written twice is one input (its two http sources are one vertex: client/llb addInput), copied twice.
  const distinct = [...new Set(urls)];
  const actions: object[] = [];
  const contents: string[] = [];
  for (const url of urls) {
    const d = downloads.get(url);
    const name = keyedFileName(url);
    if (!d || !d.st.isFile() || !name || name !== d.name) return undefined;
    const action = sourceCopyAction(inst, name, cwd);
    if (!action) return undefined;
    actions.push(action);
    if (distinct.indexOf(url) === contents.length) contents.push(contentRecord([await downloadChecksum({ abs: d.abs, size: d.st.size })]));
  }
  const secondaries = urls.map((u) => distinct.indexOf(u) + (onScratch ? 0 : 1));
  const record = rootKey(fileOpDigest(actions.map((a) => goJson(a)), copyIndexes(secondaries, onScratch)), 0);
  const links = contents.length === 1 ? { content: contents[0]! } : { inputs: contents.map((content) => ({ content })) };
  return { record, ...links, ...(onScratch ? { noParent: true as const } : {}) };
}
