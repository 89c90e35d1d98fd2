/**
 * `compression=estargz` (BuildKit's exporter key) on an image output: each
 * layer rewritten as eStargz (src/layer/estargz.ts), annotated with the TOC
 * digest and the uncompressed size as the stargz-snapshotter reads them. An
 * eStargz tar holds the layer's entries plus a landmark and the TOC, so its
 * diff ID is new: the config's `rootfs.diff_ids` follow (a new image ID, as
 * with BuildKit). Layers already eStargz (their manifest says so) are kept
 * unless `force-compression`.
 */
import { decompress } from '../layer/compress.js';
import { toEstargz } from '../layer/estargz.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../layer/estargz-toc.js';
import { sha256Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor, ImageConfig, Manifest } from '../oci/types.js';

async function writeJson(content: ContentStore, value: unknown): Promise<{ digest: string; size: number }> {
  const text = JSON.stringify(value);
  const digest = sha256Digest(text);
  return (await content.stat(digest)) ?? content.writeBytes(text, { digest });
}

/** One layer as eStargz: its descriptor and diff ID. */
async function convertLayer(content: ContentStore, layer: Descriptor, docker: boolean, level?: number): Promise<{ descriptor: Descriptor; diffId: string }> {
  const raw = await decompress(await content.reader(layer.digest), layer.mediaType);
  const { stream, result } = toEstargz(raw, level !== undefined ? { level } : {});
  const [blob, r] = await Promise.all([content.ingest(stream), result]);
  const { annotations, ...rest } = layer;
  const { [TOC_DIGEST_ANNOTATION]: _t, [UNCOMPRESSED_SIZE_ANNOTATION]: _u, ...others } = annotations ?? {};
  return {
    descriptor: {
      ...rest,
      mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
      digest: blob.digest,
      size: blob.size,
      annotations: { ...others, [TOC_DIGEST_ANNOTATION]: r.tocDigest, [UNCOMPRESSED_SIZE_ANNOTATION]: String(r.uncompressedSize) },
    },
    diffId: r.diffId,
  };
}

/** The image manifest `descriptor` names (`doc`), its layers as eStargz; the same descriptor when nothing changes. */
export async function estargzManifest(content: ContentStore, descriptor: Descriptor, doc: Manifest, opts: { level?: number; force?: boolean }): Promise<Descriptor> {
  const docker = doc.mediaType === MediaType.DockerManifest;
  const config = JSON.parse((await content.readBytes(doc.config.digest)).toString()) as ImageConfig;
  const diffIds = [...config.rootfs.diff_ids];
  const layers: Descriptor[] = [];
  for (const [i, l] of doc.layers.entries()) {
    if (l.annotations?.[TOC_DIGEST_ANNOTATION] && !opts.force) {
      layers.push(l);
      continue;
    }
    const c = await convertLayer(content, l, docker, opts.level);
    layers.push(c.descriptor);
    diffIds[i] = c.diffId;
  }
  if (layers.every((l, i) => l.digest === doc.layers[i]!.digest)) return descriptor;
  const configBlob = await writeJson(content, { ...config, rootfs: { ...config.rootfs, diff_ids: diffIds } });
  const manifest: Manifest = { ...doc, config: { ...doc.config, digest: configBlob.digest, size: configBlob.size }, layers };
  const blob = await writeJson(content, manifest);
  return { ...descriptor, digest: blob.digest, size: blob.size };
}

/**
 * The image a build stores: as built, or with eStargz layers when an
 * `-o type=image|registry,compression=estargz` asks for them (what is tagged and pushed).
 */
export async function storedImage(
  content: ContentStore,
  built: { descriptor: Descriptor; id: string },
  outputs: { type: string; compression?: { codec: string; level?: number; force?: boolean } }[],
): Promise<{ descriptor: Descriptor; id: string }> {
  const c = outputs.find((o) => o.type === 'image' && o.compression?.codec === 'estargz')?.compression;
  if (!c) return built;
  const doc = JSON.parse((await content.readBytes(built.descriptor.digest)).toString()) as Manifest;
  const descriptor = await estargzManifest(content, built.descriptor, doc, c);
  if (descriptor.digest === built.descriptor.digest) return built;
  const converted = JSON.parse((await content.readBytes(descriptor.digest)).toString()) as Manifest;
  return { descriptor, id: converted.config.digest };
}
