/**
 * The agent's persistent copy of one client context: `<root>/agent/contexts/<id>/`
 * (the caller names the contexts folder)
 * with `ctx/` (the files, brought to the client's state by each build),
 * `incoming/` (uploads being verified) and `lock`. The id is the client's
 * choice (a hash of its host and the context's path), checked to be one
 * plain name. The lock (a pid lock file: a killed agent's lock is stale at
 * once) is held from the sync to the end of the build, so two builds of the
 * same context never write it under each other.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { invalidArgument } from '../../../errors.js';
import { BoundedLru } from '../../../util/bounded-lru.js';
import { lock, type Release } from '../../../util/lock.js';
import { manifestDigest, type ContextManifest } from './manifest.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export interface ContextSlot {
  id: string;
  /** `<contexts>/<id>`: ctx/, incoming/, lock, manifest.json. */
  base: string;
  /** The context directory the build reads. */
  dir: string;
  /** Scratch for uploads, emptied when the slot is opened. */
  incoming: string;
  release: Release;
}

export function validateContextId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw invalidArgument(`build context id ${JSON.stringify(String(id).slice(0, 80))} is not valid`, { hint: 'a context id is 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit' });
  }
  return id;
}

/** Locks and prepares the slot `<contexts>/<id>` (waiting up to `timeoutMs` for another build of the same context). */
export async function openSlot(contexts: string, id: string, opts: { timeoutMs?: number } = {}): Promise<ContextSlot> {
  const base = path.join(contexts, validateContextId(id));
  // Synchronous: a few microseconds each, where a trip through the thread pool costs a wake-up of
  // each side (the build waits for them before it can answer its Need).
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const release = await lock(path.join(base, 'lock'), { timeoutMs: opts.timeoutMs ?? 30 * 60_000, what: `build context ${id}`, sync: true });
  try {
    const dir = path.join(base, 'ctx');
    const incoming = path.join(base, 'incoming');
    emptyIncoming(incoming);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    return { id, base, dir, incoming, release };
  } catch (e) {
    await release();
    throw e;
  }
}

/** `incoming/` empty and ours (0700): left as it is when it already is (a no-change build's case), made again otherwise. */
function emptyIncoming(incoming: string): void {
  try {
    const st = lstatSync(incoming);
    if (st.isDirectory() && (st.mode & 0o7777) === 0o700 && readdirSync(incoming).length === 0) return;
  } catch {
    // absent (or not a directory): made below
  }
  rmSync(incoming, { recursive: true, force: true });
  mkdirSync(incoming, { mode: 0o700 });
}

/**
 * The manifest the slot's directory was last brought to (a delta's base), if
 * any. It is written only once a sync has finished and removed before the next
 * one changes the directory, so a stored manifest always describes `ctx/`
 * (nothing else writes there: builds only read it).
 */
export async function loadSlotManifest(slot: ContextSlot): Promise<{ digest: string; manifest: ContextManifest } | undefined> {
  const f = path.join(slot.base, 'manifest.json');
  try {
    // The agent is long-lived: the manifest it parsed last is kept while the file is the same one (inode, size, mtime).
    const sig = fileSig(f);
    const kept = keptSlotManifests.get(f);
    if (kept?.sig === sig) return kept.value;
    const text = await readFile(f, 'utf8');
    const manifest = JSON.parse(text) as ContextManifest;
    if (!Array.isArray(manifest?.entries)) return undefined;
    return keep(f, { digest: manifestDigest(manifest), manifest }, text.length, sig);
  } catch {
    return undefined;
  }
}

/**
 * Heap bytes a kept manifest costs, estimated from its file's length (no walk over its entries): parsed and digested
 * (each entry's canonical line kept, manifest.ts), a manifest takes ~3.4 times its JSON (measured on node 20: 5,000
 * entries with 19-byte paths, ~590 bytes each; ~3.1 times at 119-byte paths), plus the cache's own record.
 */
export const manifestCost = (jsonLength: number): number => 1024 + Math.ceil(jsonLength * 3.5);

/**
 * Slot manifests parsed (or written) by this process, by file, with the file's signature (inode, size, mtime):
 * 64 MiB of them at most (~22 contexts of 5,000 files), the least recently used dropped first, so an agent serving
 * many contexts keeps a fixed ceiling; a dropped one is read from its file again.
 */
export const keptSlotManifests = new BoundedLru<string, { sig: string; value: { digest: string; manifest: ContextManifest } }>(64 << 20);

const fileSig = (f: string): string => {
  const st = statSync(f);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
};

function keep(f: string, value: { digest: string; manifest: ContextManifest }, jsonLength: number, sig = fileSig(f)): typeof value {
  keptSlotManifests.set(f, { sig, value }, manifestCost(jsonLength));
  return value;
}

/**
 * Stores the manifest the directory now holds; kept parsed in this process too (under the new file's signature,
 * with its digest when the caller has it), so the next build of the context does not read back what was just
 * written. The manifest is not changed afterwards: the next build's delta makes a new one.
 */
export async function saveSlotManifest(slot: ContextSlot, manifest: ContextManifest, digest = manifestDigest(manifest)): Promise<void> {
  const f = path.join(slot.base, 'manifest.json');
  const tmp = `${f}.tmp-${randomBytes(4).toString('hex')}`;
  const json = JSON.stringify(manifest);
  await writeFile(tmp, json, { mode: 0o600 });
  await rename(tmp, f);
  keep(f, { digest, manifest }, json.length);
}

/** Before a sync changes the directory: a sync cut short leaves no manifest, and the next build checks every path. */
export async function clearSlotManifest(slot: ContextSlot): Promise<void> {
  await rm(path.join(slot.base, 'manifest.json'), { force: true });
}
