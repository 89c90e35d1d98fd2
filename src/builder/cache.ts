/**
 * The build cache: a step's key (its parent state, its expanded instruction
 * and, for COPY/ADD, the hash of its sources) → what the step produced: the
 * layer (descriptor and diff ID) or nothing, and when it was made. Records
 * are small JSON files under `<root>/buildcache/steps`; a record whose layer
 * blob was garbage-collected is a miss. A local miss asks the registry caches
 * of `--cache-from` (remote-cache.ts), whose hits are stored locally too.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { digestHex } from '../oci/digest.js';
import type { ContentStore } from '../content/store.js';
import type { Repository } from '../registry/repository.js';
import type { CommittedLayer } from './layer-commit.js';
import { readSmallSync, tempPath } from '../util/fsutil.js';
import { PendingBlobs } from './pending-blobs.js';

export interface CacheRecord {
  created: string;
  layer?: CommittedLayer;
  /** The chain ID of the snapshot the step left (its parent's layers plus its own): `kiln builder prune` gives it back. */
  chainId?: string;
}

/** Where a local miss is asked next: the `--cache-from` registry caches (./remote-cache.ts). */
export interface CacheFallback {
  /**
   * The step's record; its layer blob is stored, or (with `fetching`) its download started there. `buildkit`:
   * the key is a BuildKit chain name, not one of kiln's keys.
   */
  get(key: string, fetching?: PendingBlobs, buildkit?: boolean): Promise<CacheRecord | undefined>;
  /** Every location has answered one of kiln's own keys: kiln wrote them all (./remote-cache.ts). */
  readonly answersOwnKeys?: boolean;
  /** Their repositories: `--cache-to` mounts blobs from them on the same registry. */
  readonly repositories: Repository[];
}

export class BuildCache {
  private readonly dir: string;
  /** Every record this build used or made, by key: what `--cache-to` exports. */
  readonly used = new Map<string, CacheRecord>();
  /** The `--cache-from` registry caches, asked on a local miss. */
  remote?: CacheFallback;
  /** The layer blobs of their hits, downloading while the build goes on (./pending-blobs.ts). */
  readonly fetching = new PendingBlobs();

  constructor(
    root: string,
    private readonly content: ContentStore,
    private readonly disabled = false,
  ) {
    this.dir = path.join(root, 'buildcache', 'steps');
  }

  /** `buildkit`: the key is a BuildKit chain name (buildkit-keys/), not one of kiln's keys. */
  async get(key: string, buildkit = false): Promise<CacheRecord | undefined> {
    if (this.disabled) return undefined;
    const local = await this.getLocal(key);
    if (local) {
      this.used.set(key, local);
      return local;
    }
    const remote = await this.remote?.get(key, this.fetching, buildkit);
    if (remote) await this.put(key, remote);
    return remote;
  }

  private async getLocal(key: string): Promise<CacheRecord | undefined> {
    // Synchronous (util/fsutil's small files): a record is a few hundred bytes, read per step of an all-cached build.
    const text = readSmallSync(path.join(this.dir, digestHex(key)))?.toString('utf8');
    if (text === undefined) return undefined;
    let rec: CacheRecord;
    try {
      rec = JSON.parse(text) as CacheRecord;
    } catch (e) {
      if (e instanceof SyntaxError) return undefined;
      throw e;
    }
    const digest = rec.layer?.descriptor.digest;
    if (digest !== undefined && !this.fetching.has(digest) && !(await this.content.stat(digest))) return undefined;
    return rec;
  }

  async put(key: string, rec: CacheRecord): Promise<void> {
    this.used.set(key, rec);
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, digestHex(key));
    const tmp = tempPath(file);
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, file);
  }
}
