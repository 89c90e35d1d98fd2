/**
 * What a push of an index sends: each stored platform's manifest as
 * ./push-compress.ts makes it (uncompressed build layers → gzip), and the index
 * rewritten to name those manifests (platform and annotations kept). Entries
 * whose manifest is not stored here (a partial pull) are not sent: the
 * registry must have them already, or it refuses the index.
 */
import { isIndexType } from '../oci/mediatypes.js';
import { sha256Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { Fetched } from './copy.js';
import { compressedForPush } from './push-compress.js';
import type { ImageStore } from './store.js';

export interface PushTree {
  root: Fetched;
  /** Documents made for this push (rewritten manifests), by digest: read these before the store. */
  made: Map<string, Buffer>;
}

/** `root` (a manifest or an index) as it is pushed. Give it the leased store (ImageStore.withLease): what it compresses is leased until the push ends. */
export async function pushTree(stores: ImageStore, root: Fetched): Promise<PushTree> {
  const made = new Map<string, Buffer>();
  if (!isIndexType(root.descriptor.mediaType)) return { root: await compressedForPush(stores, root), made };
  const doc = JSON.parse(root.bytes.toString('utf8')) as { manifests: Descriptor[] };
  let changed = false;
  for (const [i, d] of doc.manifests.entries()) {
    if (isIndexType(d.mediaType) || !(await stores.content.stat(d.digest))) continue;
    const child = await compressedForPush(stores, { descriptor: d, bytes: await stores.content.readBytes(d.digest) });
    if (child.descriptor.digest === d.digest) continue;
    made.set(child.descriptor.digest, child.bytes);
    doc.manifests[i] = { ...d, digest: child.descriptor.digest, size: child.descriptor.size };
    changed = true;
  }
  if (!changed) return { root, made };
  const bytes = Buffer.from(JSON.stringify(doc));
  return { root: { descriptor: { ...root.descriptor, digest: sha256Digest(bytes), size: bytes.length }, bytes }, made };
}
