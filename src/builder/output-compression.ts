/**
 * `-o type=oci|docker,dest=…,compression=gzip|zstd|uncompressed|estargz[,compression-level=N][,force-compression=true]`
 * (BuildKit's exporter keys): the archive's image has its layers in that
 * codec. Layers stored otherwise are converted (compressed, or decompressed
 * first); layers already in the codec are kept unless `force-compression`.
 * The config, and so the image ID, is the same; the manifest is new (written
 * to the store under the build's lease, like any blob of the build).
 * estargz changes the diff IDs, so the config too: ./output-estargz.ts.
 */
import { compressLayer, decompress, type Codec } from '../layer/compress.js';
import { sha256Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor, Index, Manifest } from '../oci/types.js';
import { estargzManifest } from './output-estargz.js';

export interface OutputCompression {
  codec: Codec | 'estargz';
  level?: number;
  force?: boolean;
}

const codecOf = (mediaType: string): Codec => (/zstd$/.test(mediaType) ? 'zstd' : /gzip$/.test(mediaType) ? 'gzip' : 'none');

async function convert(content: ContentStore, layer: Descriptor, c: OutputCompression & { codec: Codec }, docker: boolean): Promise<Descriptor> {
  if (codecOf(layer.mediaType) === c.codec && !c.force) return layer;
  const raw = await decompress(await content.reader(layer.digest), layer.mediaType);
  const { stream, result } = compressLayer(raw, c.codec, { ...(c.level !== undefined ? { level: c.level } : {}), docker: docker && c.codec !== 'zstd' });
  const [blob, r] = await Promise.all([content.ingest(stream), result]);
  return { mediaType: r.mediaType, digest: blob.digest, size: blob.size };
}

/** The image `descriptor` names, with its layers in `c.codec`; the same descriptor when nothing changes. */
export async function compressImage(content: ContentStore, descriptor: Descriptor, c: OutputCompression): Promise<Descriptor> {
  const doc = JSON.parse((await content.readBytes(descriptor.digest)).toString()) as Manifest & Partial<Index> & { layers: Descriptor[] };
  if (doc.manifests) {
    // A multi-platform build's index: each platform's image, then an index of the results.
    const manifests: Descriptor[] = [];
    for (const m of doc.manifests) manifests.push(await compressImage(content, m, c));
    if (manifests.every((m, i) => m.digest === doc.manifests![i]!.digest)) return descriptor;
    const bytes = JSON.stringify({ ...doc, manifests });
    const blob = await content.writeBytes(bytes, { digest: sha256Digest(bytes) });
    return { ...descriptor, digest: blob.digest, size: blob.size };
  }
  if (c.codec === 'estargz') return estargzManifest(content, descriptor, doc, c);
  const codec = c.codec;
  const docker = doc.mediaType === MediaType.DockerManifest;
  const layers: Descriptor[] = [];
  for (const l of doc.layers) layers.push({ ...l, ...(await convert(content, l, { ...c, codec }, docker)) });
  if (layers.every((l, i) => l.digest === doc.layers[i]!.digest)) return descriptor;
  const bytes = JSON.stringify({ ...doc, layers });
  const blob = await content.writeBytes(bytes, { digest: sha256Digest(bytes) });
  return { ...descriptor, digest: blob.digest, size: blob.size };
}
