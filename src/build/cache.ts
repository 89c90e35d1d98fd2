/**
 * The build cache: a step's key (its parent state, its expanded instruction
 * and, for COPY/ADD, the hash of its sources) → what the step produced: the
 * layer (descriptor and diff ID) or nothing, and when it was made. Records
 * are small JSON files under `<root>/buildcache/steps`; a record whose layer
 * blob was garbage-collected is a miss.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isErrno } from '../errors.js';
import { digestHex } from '../oci/digest.js';
import type { ContentStore } from '../content/store.js';
import type { CommittedLayer } from './layer-commit.js';

export interface CacheRecord {
  created: string;
  layer?: CommittedLayer;
}

export class BuildCache {
  private readonly dir: string;

  constructor(
    root: string,
    private readonly content: ContentStore,
    private readonly disabled = false,
  ) {
    this.dir = path.join(root, 'buildcache', 'steps');
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    if (this.disabled) return undefined;
    let rec: CacheRecord;
    try {
      rec = JSON.parse(await readFile(path.join(this.dir, digestHex(key)), 'utf8')) as CacheRecord;
    } catch (e) {
      if (isErrno(e, 'ENOENT') || e instanceof SyntaxError) return undefined;
      throw e;
    }
    if (rec.layer && !(await this.content.stat(rec.layer.descriptor.digest))) return undefined;
    return rec;
  }

  async put(key: string, rec: CacheRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, digestHex(key));
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(rec));
    await rename(tmp, file);
  }
}
