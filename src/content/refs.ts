/**
 * Tags as entries of the layout's index.json, annotated with
 * `org.opencontainers.image.ref.name` = the full normalized name (so skopeo
 * `oci:ROOT:NAME` and umoci read them). Updates are read-modify-write under
 * the store lock and land atomically (temp file, fsync, rename). A name moved
 * to another image (a rebuild, a re-pull, a re-tag) leaves the image it named
 * as an unnamed entry when nothing else names it: Docker's dangling
 * `<none>:<none>`, kept until a prune or an rmi by ID.
 */
import { statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { dataLoss, failedPrecondition, invalidArgument } from '../errors.js';
import { isIndexType, isManifestType, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, Index } from '../oci/types.js';
import { readSmallWithStatsSync, writeFileAtomic, writing } from '../util/fsutil.js';
import { withLock } from '../util/lock.js';
import type { NamedRef, RefStore } from './store.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

const refName = (d: Descriptor): string | undefined => d.annotations?.[REF_NAME];

function strip(d: Descriptor): Descriptor {
  if (d.annotations === undefined) return d;
  const { [REF_NAME]: _drop, ...rest } = d.annotations;
  const out: Descriptor = { ...d, annotations: rest };
  if (Object.keys(rest).length === 0) delete out.annotations;
  return out;
}

/**
 * The last parse of each store's index.json (by path), with the identity of the file it came from (inode, size,
 * change and modification times): reused while the file on disk is that one. Every update lands by rename, a new
 * inode, so a change by any process — kiln's or another tool's — is a new identity; a stat is a few
 * microseconds, a parse of 5,000 names ~10 ms and the list of them as many again (measured). Callers treat the
 * index and the list as read-only. (Another tool rewriting the file in place, to the same size, within the clock
 * tick of a read here would go unseen until the file's next change.)
 */
interface Parsed {
  identity: string;
  index: Index;
  named?: NamedRef[];
}
const parsed = new Map<string, Parsed>();
const identity = (st: BigIntStats): string => `${st.ino}:${st.size}:${st.ctimeNs}:${st.mtimeNs}`;

/** Two index entries alike: the same JSON (the entry as it would be written). */
const sameEntry = (a: Descriptor, b: Descriptor): boolean => JSON.stringify(a) === JSON.stringify(b);

export class LayoutRefStore implements RefStore {
  readonly indexPath: string;

  constructor(
    readonly root: string,
    private readonly lockPath: string,
  ) {
    this.indexPath = join(root, 'index.json');
  }

  /** The whole index.json (entries without a ref name included), read synchronously (util/fsutil's small files). */
  async readIndex(): Promise<Index> {
    return this.parsed().index;
  }

  /** index.json parsed: the last parse while the file is the one it came from, else read (identity and bytes from one open). */
  private parsed(): Parsed {
    const last = parsed.get(this.indexPath);
    const now = last && statSync(this.indexPath, { bigint: true, throwIfNoEntry: false });
    if (last && now && last.identity === identity(now)) return last;
    const read = readSmallWithStatsSync(this.indexPath);
    // (openStore found it: gone since, removed by hand or by another tool)
    if (read === undefined) throw failedPrecondition(`${this.root} has an oci-layout file but no index.json`, { hint: 'run `kiln system check`' });
    const id = identity(read.stats);
    const text = read.bytes!.toString('utf8');
    try {
      const index = JSON.parse(text) as Index;
      if (!Array.isArray(index.manifests)) throw new SyntaxError('no "manifests" array');
      const next = { identity: id, index };
      parsed.set(this.indexPath, next);
      return next;
    } catch (e) {
      throw dataLoss(`kiln store ${this.root}: index.json is not a valid OCI index: ${(e as Error).message}`, {
        hint: 'run `kiln system check`; restore index.json from a backup or re-pull the images',
        cause: e,
      });
    }
  }

  async list(): Promise<NamedRef[]> {
    const p = this.parsed();
    p.named ??= p.index.manifests.flatMap((d) => {
      const name = refName(d);
      return name === undefined ? [] : [{ name, descriptor: strip(d) }];
    });
    return [...p.named];
  }

  async get(name: string): Promise<Descriptor | undefined> {
    const found = (await this.readIndex()).manifests.find((d) => refName(d) === name);
    return found && strip(found);
  }

  async set(name: string, descriptor: Descriptor): Promise<void> {
    if (name === '') throw invalidArgument(`kiln store ${this.root}: empty tag name`);
    const entry: Descriptor = { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: name } };
    await this.update((manifests) => {
      const old = manifests.find((d) => refName(d) === name);
      // Already so, and the last entry, where a set puts it (a no-change rebuild, a tag repeated): nothing to write.
      if (old && old === manifests.at(-1) && sameEntry(old, entry) && !manifests.some((d) => refName(d) === undefined && d.digest === descriptor.digest)) return manifests;
      // The name replaces its old target, and an unnamed entry of the same image is now named.
      const kept = manifests.filter((d) => refName(d) !== name && !(refName(d) === undefined && d.digest === descriptor.digest));
      const dangling = old && old.digest !== descriptor.digest && isManifestType(old.mediaType) && !kept.some((d) => d.digest === old.digest);
      const { annotations: _drop, ...bare } = old ?? descriptor;
      return [...kept, ...(dangling ? [bare] : []), entry];
    });
  }

  async delete(name: string): Promise<boolean> {
    let existed = false;
    await this.update((manifests) => {
      const kept = manifests.filter((d) => refName(d) !== name);
      existed = kept.length !== manifests.length;
      return existed ? kept : manifests;
    });
    return existed;
  }

  /** Index entries without a name that are image manifests or indexes (other unnamed entries are left alone). */
  async unnamed(): Promise<Descriptor[]> {
    return (await this.readIndex()).manifests.filter((d) => refName(d) === undefined && (isManifestType(d.mediaType) || isIndexType(d.mediaType)));
  }

  async keep(descriptor: Descriptor): Promise<void> {
    await this.update((manifests) => (manifests.some((d) => d.digest === descriptor.digest) ? manifests : [...manifests, strip(descriptor)]));
  }

  async forget(digest: string): Promise<boolean> {
    let existed = false;
    await this.update((manifests) => {
      const kept = manifests.filter((d) => !(refName(d) === undefined && d.digest === digest));
      existed = kept.length !== manifests.length;
      return existed ? kept : manifests;
    });
    return existed;
  }

  /**
   * Read-modify-write of index.json's manifests under the store lock. `change` returning its own argument changes
   * nothing: the file is not written again when it would be the same (a kiln-written index.json).
   */
  async update(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    const write = withLock(this.lockPath, async () => {
      const index = await this.readIndex();
      const manifests = change(index.manifests);
      if (manifests === index.manifests && index.schemaVersion === 2 && index.mediaType === MediaType.OciIndex) return;
      const next: Index = { ...index, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
      await writeFileAtomic(this.indexPath, JSON.stringify(next));
    }, { what: `kiln store ${this.root}` });
    await writing(this.root, this.indexPath, () => write);
  }
}
