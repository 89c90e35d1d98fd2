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
import path from 'node:path';
import type { CopyInstruction } from '../../dockerfile/index.js';
import type { Downloaded } from '../remote.js';
import { goJson } from './go-json.js';
import { contentRecord, fileHeader, rootKey } from './keys.js';
import { resolveDest } from './copy-chain.js';
import { chownOf, copyIndexes, fileOpDigest, type ChownJson } from './copy-action.js';
import type { BuildkitOp } from './step.js';

/** The file name BuildKit's frontend gives a URL's download, or undefined when kiln would not name it the same. */
export function urlFileName(url: string): string | undefined {
  let p: string;
  try {
    p = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  const base = path.posix.basename(p.replace(/\/+$/, ''));
  const name = base === '' || base === '.' ? '__unnamed__' : base;
  return /^[A-Za-z0-9._+-]+$/.test(name) ? name : undefined;
}

/** The content checksum of a downloaded file as BuildKit's http source leaves it (0600, root-owned). */
export async function downloadChecksum(d: { abs: string; size: number }): Promise<string> {
  const h = createHash('sha256').update(fileHeader({ mode: 0o600, uid: 0, gid: 0, size: d.size }));
  for await (const chunk of createReadStream(d.abs)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

export async function urlFileOp(inst: CopyInstruction, downloads: Map<string, Downloaded>, cwd: string, onScratch: boolean): Promise<BuildkitOp | undefined> {
  if (inst.kind !== 'add' || inst.from !== undefined || inst.link || inst.parents || inst.exclude.length > 0 || inst.sources.length !== 1) return undefined;
  const only = inst.sources[0]!;
  const d = only.kind === 'path' ? downloads.get(only.path) : undefined;
  if (!d || only.kind !== 'path' || !d.st.isFile()) return undefined;
  const name = urlFileName(only.path);
  if (!name || name !== d.name) return undefined;
  let mode = -1;
  if (inst.chmod !== undefined) {
    if (!/^[0-7]+$/.test(inst.chmod) || parseInt(inst.chmod, 8) > 0o7777 || parseInt(inst.chmod, 8) === 0) return undefined;
    mode = parseInt(inst.chmod, 8);
  }
  let owner: ChownJson | undefined;
  if (inst.chown !== undefined) {
    owner = chownOf(inst.chown);
    if (!owner) return undefined;
  }
  const action = { src: name, dest: resolveDest(cwd, inst.dest), ...(owner ? { owner } : {}), mode, createDestPath: true, timestamp: -1 };
  const record = rootKey(fileOpDigest([goJson(action)], copyIndexes(1, onScratch ? 1 : 2, onScratch)), 0);
  const content = contentRecord([await downloadChecksum({ abs: d.abs, size: d.st.size })]);
  return { record, content, ...(onScratch ? { noParent: true as const } : {}) };
}
