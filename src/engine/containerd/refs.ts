/**
 * The RefStore contract over containerd's images service. Naming an image
 * publishes it for the kubelet the way the CRI's own pull does: blobs
 * labelled for GC and unpacked into the snapshotter, then image records with
 * `io.cri-containerd.image=managed` under the name, under `repo@digest` when
 * the registry's digest is known, and under the image ID (`sha256:…`).
 * The ID records are containerd's bookkeeping and are not listed as tags; an
 * ID record no named record shares is an image without a name (an import
 * without a tag, or the image a moved tag left: Docker's dangling
 * `<none>:<none>`), listed by `unnamed` and removed by `forget`.
 */
import { isKilnError } from '../../errors.js';
import { parseReference, repositoryName } from '../../name/reference.js';
import type { NamedRef, RefStore } from '../../content/store.js';
import type { Descriptor } from '../../oci/types.js';
import { isIndexType } from '../../oci/mediatypes.js';
import { REPO_DIGEST } from '../../image/resolve.js';
import type { Message } from './grpc.js';
import { withLease } from './lease.js';
import { leasedContext, platformManifest, publishImage, type UnpackContext } from './unpack.js';

export const CRI_LABEL = 'io.cri-containerd.image';
/** containerd's CRI (1.7 and later) reports an image with this label as pinned; the kubelet's image GC skips pinned images. */
export const PINNED_LABEL = 'io.cri-containerd.pinned';
const isIdName = (name: string) => /^sha256:[a-f0-9]{64}$/.test(name);

export interface ImageRecord {
  name: string;
  labels: Record<string, string>;
  target: Descriptor;
}

function toDescriptor(t: Message): Descriptor {
  const d: Descriptor = { mediaType: t.media_type as string, digest: t.digest as string, size: Number(t.size) };
  if (t.annotations && Object.keys(t.annotations as object).length > 0) d.annotations = { ...(t.annotations as Record<string, string>) };
  return d;
}

const toTarget = (d: Descriptor): Message => ({ media_type: d.mediaType, digest: d.digest, size: d.size, annotations: d.annotations ?? {} });

export class ContainerdRefStore implements RefStore {
  constructor(private readonly ctx: UnpackContext) {}

  /** Every image record, ID records included, as containerd holds them. */
  async records(): Promise<ImageRecord[]> {
    const res = await this.ctx.conn.unary('images', 'List', { filters: [] }, 'image list');
    return (res.images as Message[]).map((i) => ({ name: i.name as string, labels: (i.labels ?? {}) as Record<string, string>, target: toDescriptor(i.target as Message) }));
  }

  /** What kiln shows for a record: the platform manifest (an index target, from ctr or the CRI, is resolved). */
  private async view(r: ImageRecord): Promise<Descriptor | undefined> {
    if (!isIndexType(r.target.mediaType)) return r.target;
    try {
      const { descriptor } = await platformManifest(this.ctx, r.target);
      return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size, annotations: { [REPO_DIGEST]: r.target.digest } };
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return undefined; // content not (yet) there: not an image kiln can show
      throw e;
    }
  }

  async list(): Promise<NamedRef[]> {
    const out: NamedRef[] = [];
    for (const r of await this.records()) {
      if (isIdName(r.name)) continue;
      const descriptor = await this.view(r);
      if (descriptor) out.push({ name: r.name, descriptor });
    }
    return out;
  }

  async get(name: string): Promise<Descriptor | undefined> {
    try {
      const res = await this.ctx.conn.unary('images', 'Get', { name }, `image ${name}`);
      const image = res.image as Message;
      return this.view({ name, labels: image.labels as Record<string, string>, target: toDescriptor(image.target as Message) });
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /** Creates or replaces one image record. */
  async put(name: string, target: Descriptor): Promise<void> {
    const image = { name, labels: { [CRI_LABEL]: 'managed' }, target: toTarget(target) };
    try {
      await this.ctx.conn.unary('images', 'Create', { image }, `image ${name}`);
    } catch (e) {
      if (!isKilnError(e, 'ALREADY_EXISTS')) throw e;
      // Only kiln's own label is written: a pin on this name stays when it moves to a new image.
      await this.ctx.conn.unary('images', 'Update', { image, update_mask: { paths: [`labels.${CRI_LABEL}`, 'target', 'annotations'] } }, `image ${name}`);
    }
  }

  /** Adds or removes the CRI's pin label on one record; false when there is no such record. */
  async setPinned(name: string, pinned: boolean): Promise<boolean> {
    const image = { name, labels: pinned ? { [PINNED_LABEL]: 'pinned' } : {} };
    try {
      await this.ctx.conn.unary('images', 'Update', { image, update_mask: { paths: [`labels.${PINNED_LABEL}`] } }, `image ${name}`);
      return true;
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }

  async set(name: string, descriptor: Descriptor): Promise<void> {
    await withLease(this.ctx.conn, async (conn) => {
      const id = await publishImage(leasedContext(this.ctx, conn), descriptor);
      const repoDigest = descriptor.annotations?.[REPO_DIGEST];
      const names = [name, ...(repoDigest && !name.includes('@') ? [`${repositoryName(parseReference(name))}@${repoDigest}`] : []), id];
      // The records at once (each its own; none waits for another), every one ended before the first failure is said.
      const failed = (await Promise.allSettled(names.map((n) => this.put(n, descriptor)))).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
  }

  /** Records an image that has no name (import or load without a tag) under its ID only. */
  async keepUnnamed(descriptor: Descriptor): Promise<string> {
    return withLease(this.ctx.conn, async (conn) => {
      const id = await publishImage(leasedContext(this.ctx, conn), descriptor);
      await this.put(id, descriptor);
      return id;
    });
  }

  /** Images kept only under their ID: no name, no `repo@digest` record targets them. */
  async unnamed(): Promise<Descriptor[]> {
    const records = await this.records();
    const named = new Set(records.filter((r) => !isIdName(r.name)).map((r) => r.target.digest));
    const out: Descriptor[] = [];
    for (const r of records.filter((x) => isIdName(x.name) && !named.has(x.target.digest))) {
      const d = await this.view(r);
      if (d) out.push(d);
    }
    return out;
  }

  /** Removes the ID record of an unnamed image (by its manifest digest); its blobs and snapshots go with containerd's GC. */
  async forget(digest: string): Promise<boolean> {
    let found = false;
    for (const r of await this.records()) {
      if (!isIdName(r.name) || (r.target.digest !== digest && (await this.view(r))?.digest !== digest)) continue;
      found = (await this.delete(r.name)) || found;
    }
    return found;
  }

  async delete(name: string): Promise<boolean> {
    try {
      await this.ctx.conn.unary('images', 'Delete', { name, sync: false }, `image ${name}`);
      return true;
    } catch (e) {
      if (isKilnError(e, 'NOT_FOUND')) return false;
      throw e;
    }
  }
}
