/**
 * Garbage collection: under the store lock, keep every blob reachable from
 * index.json, from extra roots and from live leases (and the compressed forms
 * of kept layers: compressed.ts); delete the rest, stale
 * ingests (no live writer), dead leases and temp files of dead processes.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor } from '../oci/types.js';
import { ifExists, unlinkQuiet, writing } from '../util/fsutil.js';
import { scanLeases } from './lease.js';
import { deadTemps } from './temps.js';
import type { LocalStore } from './layout.js';
import { tryLock, withLock } from '../util/lock.js';
import { isAlive } from '../util/process.js';
import type { BlobInfo } from './store.js';
import { childrenOf, mayHaveChildren } from './walk.js';

export interface GcResult {
  removed: BlobInfo[];
  bytesFreed: number;
  /** Ingest files of writers that are gone. */
  ingestsRemoved: string[];
  /** Lease files of processes that are gone. */
  leasesRemoved: string[];
}


/** Every digest reachable from `roots` (absent blobs are simply skipped). */
export async function reachable(store: LocalStore, roots: Descriptor[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue = [...roots];
  for (let d = queue.pop(); d !== undefined; d = queue.pop()) {
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (!mayHaveChildren(d) || (await store.content.stat(d.digest)) === undefined) continue;
    try {
      queue.push(...childrenOf(d, await store.content.readBytes(d.digest)).descriptors);
    } catch (e) {
      // A corrupt manifest keeps only itself; `kiln system check` reports it.
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  return seen;
}

/** Removes ingest data (and locks) nobody alive is writing. */
async function sweepIngests(root: string): Promise<string[]> {
  const dir = join(root, 'ingest');
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.data')) continue;
    const lockPath = join(dir, name.replace(/\.data$/, '.lock'));
    const got = await tryLock(lockPath);
    if (typeof got !== 'function') continue;
    try {
      await unlinkQuiet(join(dir, name));
      removed.push(join(dir, name));
    } finally {
      await got();
    }
  }
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.lock')) continue;
    const path = join(dir, name);
    const owner = await ifExists(readFile(path, 'utf8'));
    if (owner !== undefined && owner.trim() !== '' && !isAlive(owner)) await unlinkQuiet(path);
  }
  return removed;
}

export async function collectGarbage(store: LocalStore, extraRoots: Descriptor[] = []): Promise<GcResult> {
  const { root } = store;
  const run = withLock(store.lockPath, async (): Promise<GcResult> => {
    const index = await store.refs.readIndex();
    const leases = await scanLeases(root);
    const leased: Descriptor[] = [...leases.live].map((digest) => ({ mediaType: '', digest, size: 0 }));
    // Leased blobs may be manifests: sniff them whatever their size field says.
    for (const d of leased) d.size = (await store.content.stat(d.digest))?.size ?? 0;
    const keep = await reachable(store, [...index.manifests, ...extraRoots, ...leased]);
    await store.compressed.extendKeep(keep);
    const result: GcResult = { removed: [], bytesFreed: 0, ingestsRemoved: [], leasesRemoved: [] };
    for await (const blob of store.content.list()) {
      if (keep.has(blob.digest)) continue;
      await store.content.delete(blob.digest);
      result.removed.push(blob);
      result.bytesFreed += blob.size;
    }
    result.ingestsRemoved = await sweepIngests(root);
    for (const path of [...leases.dead, ...(await deadTemps(root))]) await unlinkQuiet(path);
    result.leasesRemoved = leases.dead;
    return result;
  }, { what: `kiln store ${root}` });
  return writing(root, store.lockPath, () => run);
}
