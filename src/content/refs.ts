/**
 * Tags as entries of the layout's index.json, annotated with
 * `org.opencontainers.image.ref.name` = the full normalized name (so skopeo
 * `oci:ROOT:NAME` and umoci read them). Updates are read-modify-write under
 * the store lock and land atomically (temp file, fsync, rename). A name moved
 * to another image (a rebuild, a re-pull, a re-tag) leaves the image it named
 * as an unnamed entry when nothing else names it: Docker's dangling
 * `<none>:<none>`, kept until a prune or an rmi by ID.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataLoss, invalidArgument } from '../errors.js';
import { isIndexType, isManifestType, MediaType } from '../oci/mediatypes.js';
import type { Descriptor, Index } from '../oci/types.js';
import { writeFileAtomic, writing } from '../util/fsutil.js';
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

export class LayoutRefStore implements RefStore {
  readonly indexPath: string;

  constructor(
    readonly root: string,
    private readonly lockPath: string,
  ) {
    this.indexPath = join(root, 'index.json');
  }

  /**
   * The whole index.json (entries without a ref name included). Read synchronously: a small file (one entry
   * per name) that every command resolving a name reads first, where readFile's four hand-offs to the thread
   * pool (open, fstat, read, close) each waited for a main thread busy elsewhere (a push's ping: 12 ms under strace).
   */
  async readIndex(): Promise<Index> {
    const text = readFileSync(this.indexPath, 'utf8');
    try {
      const index = JSON.parse(text) as Index;
      if (!Array.isArray(index.manifests)) throw new SyntaxError('no "manifests" array');
      return index;
    } catch (e) {
      throw dataLoss(`kiln store ${this.root}: index.json is not a valid OCI index: ${(e as Error).message}`, {
        hint: 'run `kiln system check`; restore index.json from a backup or re-pull the images',
        cause: e,
      });
    }
  }

  async list(): Promise<NamedRef[]> {
    const index = await this.readIndex();
    return index.manifests.flatMap((d) => {
      const name = refName(d);
      return name === undefined ? [] : [{ name, descriptor: strip(d) }];
    });
  }

  async get(name: string): Promise<Descriptor | undefined> {
    const found = (await this.readIndex()).manifests.find((d) => refName(d) === name);
    return found && strip(found);
  }

  async set(name: string, descriptor: Descriptor): Promise<void> {
    if (name === '') throw invalidArgument(`kiln store ${this.root}: empty tag name`);
    await this.update((manifests) => {
      const old = manifests.find((d) => refName(d) === name);
      // The name replaces its old target, and an unnamed entry of the same image is now named.
      const kept = manifests.filter((d) => refName(d) !== name && !(refName(d) === undefined && d.digest === descriptor.digest));
      const dangling = old && old.digest !== descriptor.digest && isManifestType(old.mediaType) && !kept.some((d) => d.digest === old.digest);
      const { annotations: _drop, ...bare } = old ?? descriptor;
      return [...kept, ...(dangling ? [bare] : []), { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: name } }];
    });
  }

  async delete(name: string): Promise<boolean> {
    let existed = false;
    await this.update((manifests) => {
      const kept = manifests.filter((d) => refName(d) !== name);
      existed = kept.length !== manifests.length;
      return kept;
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
      return kept;
    });
    return existed;
  }

  /** Read-modify-write of index.json's manifests under the store lock. */
  async update(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    const write = withLock(this.lockPath, async () => {
      const index = await this.readIndex();
      const next: Index = { ...index, schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: change(index.manifests) };
      await writeFileAtomic(this.indexPath, JSON.stringify(next));
    }, { what: `kiln store ${this.root}` });
    await writing(this.root, this.indexPath, () => write);
  }
}
