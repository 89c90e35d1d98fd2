/**
 * What a push sends: the stored image, with each uncompressed layer (a build's
 * layers stay uncompressed in the store, as in Docker's) replaced by its gzip
 * form, as `docker push` and `buildah push` do. The config, and so the image
 * ID, is the same; the pushed manifest has its own digest. Forms are made in
 * parallel (zlib runs on the thread pool: one layer per core), written to the
 * store and recorded (ImageStore.compressedForms), so a second push of the
 * same layers compresses nothing. gzip output is the same for the same bytes,
 * so two machines pushing one build send the same blobs.
 */
import { availableParallelism } from 'node:os';
import { compressLayer } from '../layer/compress.js';
import { isIndexType, MediaType } from '../oci/mediatypes.js';
import { parseManifest } from '../oci/parse.js';
import { sha256Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { Fetched } from './copy.js';
import { mapLimit } from './limit.js';
import type { ImageStore } from './store.js';

/** Docker's name for an uncompressed layer (schema2 allows it; registries take it). */
const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';

const uncompressed = (d: Descriptor): boolean => d.mediaType === MediaType.OciLayer || d.mediaType === DOCKER_LAYER_TAR;

/** The gzip form of one stored layer: the recorded one, else made now (and recorded). */
async function gzipForm(stores: ImageStore, layer: Descriptor): Promise<Descriptor> {
  const known = await stores.compressedForms?.get(layer.digest, 'gzip');
  if (known !== undefined) return known;
  const { stream, result } = compressLayer(await stores.content.reader(layer.digest), 'gzip', { docker: layer.mediaType === DOCKER_LAYER_TAR });
  const [blob, r] = await Promise.all([stores.content.ingest(stream), result]);
  const form = { mediaType: r.mediaType, digest: blob.digest, size: blob.size };
  await stores.compressedForms?.set(layer.digest, 'gzip', form);
  return form;
}

/**
 * `root` as it is pushed: an image manifest with uncompressed layers comes
 * back rewritten (new bytes, new descriptor); anything else (an index, a
 * manifest already compressed) unchanged. Give it the leased store (ImageStore.withLease): what it compresses is leased until the push ends.
 */
export async function compressedForPush(stores: ImageStore, root: Fetched): Promise<Fetched> {
  if (isIndexType(root.descriptor.mediaType)) return root;
  const parsed = parseManifest(root.bytes, root.descriptor.mediaType, `manifest ${root.descriptor.digest}`);
  if (parsed.kind !== 'manifest' || !parsed.manifest.layers.some(uncompressed)) return root;
  const forms = await mapLimit(parsed.manifest.layers, availableParallelism(), async (l) => (uncompressed(l) ? gzipForm(stores, l) : undefined));
  // The stored JSON with only the layer descriptors changed (annotations, subject and the rest kept as they are).
  const doc = JSON.parse(root.bytes.toString('utf8')) as { layers: Record<string, unknown>[] };
  doc.layers = doc.layers.map((l, i) => {
    const f = forms[i];
    return f === undefined ? l : { ...l, mediaType: f.mediaType, digest: f.digest, size: f.size };
  });
  const bytes = Buffer.from(JSON.stringify(doc));
  return { descriptor: { ...root.descriptor, digest: sha256Digest(bytes), size: bytes.length }, bytes };
}
