/**
 * `kiln commit`'s image half: a base image plus one layer (a tar of what a
 * container changed, whiteouts for deletions) becomes a new image, as
 * `docker commit` makes it: the container's config with `--change`
 * instructions applied, the author, a history entry (created_by: the
 * container's command, comment: the message), named or kept as <none>. The
 * layer is kept uncompressed, as a build's (push compresses it).
 */
import type { Readable } from 'node:stream';
import { compressLayer } from '../layer/compress.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import { MediaType } from '../oci/mediatypes.js';
import { applyChanges } from '../oci/config.js';
import type { ContainerConfig, ImageConfig, Manifest } from '../oci/types.js';
import { resolveImage } from './resolve.js';
import type { ImageStore } from './store.js';

export interface CommitInput {
  /** The image the container runs (its id). */
  base: string;
  /** The layer, an uncompressed tar (overlay whiteouts already written as `.wh.` entries). */
  layer: Readable;
  /** The container's own config (docker commits the container's Cmd, Env, … not the image's). */
  config: ContainerConfig;
  /** `-c`: Dockerfile instructions applied to the config. */
  changes?: string[];
  /** `-a`. */
  author?: string;
  /** `-m`. */
  message?: string;
  /** The history entry's created_by (docker: the container's command). */
  createdBy?: string;
  /** REPO[:TAG]; without it the image is kept as <none>:<none>. */
  reference?: string;
}

/** The new image's config: the base's, with the container's config, the changes and the layer. */
export function commitConfig(base: ImageConfig, input: Omit<CommitInput, 'layer' | 'base' | 'reference'>, diffId: string, created: string): ImageConfig {
  const config = applyChanges({ ...structuredClone(base), config: structuredClone(input.config) }, input.changes ?? []);
  config.created = created;
  if (input.author) config.author = input.author;
  else delete config.author;
  if (input.message) config.comment = input.message;
  else delete config.comment;
  config.rootfs = { type: 'layers', diff_ids: [...base.rootfs.diff_ids, diffId] };
  config.history = [
    ...(base.history ?? []),
    {
      created,
      ...(input.author ? { author: input.author } : {}),
      created_by: input.createdBy ?? '',
      ...(input.message ? { comment: input.message } : {}),
    },
  ];
  return config;
}

/** Stores the committed image; resolves to its id (`sha256:…`). */
export async function commitImage(stores: ImageStore, input: CommitInput): Promise<string> {
  const name = input.reference ? formatReference(parseNormalizedNamed(input.reference)) : undefined;
  return stores.withLease(async (leased) => {
    const base = await resolveImage(leased.content, leased.refs, input.base);
    const baseConfig = JSON.parse((await leased.content.readBytes(base.id)).toString()) as ImageConfig;
    const { stream, result } = compressLayer(input.layer, 'none');
    const [blob, layer] = await Promise.all([leased.content.ingest(stream), result]);
    const config = commitConfig(baseConfig, input, layer.diffId, new Date().toISOString());
    const configBlob = await leased.content.writeBytes(JSON.stringify(config));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configBlob.digest, size: configBlob.size },
      layers: [...base.manifest.parsed.layers, { mediaType: layer.mediaType, digest: blob.digest, size: blob.size }],
    };
    const manifestBlob = await leased.content.writeBytes(JSON.stringify(manifest));
    const descriptor = { mediaType: MediaType.OciManifest, digest: manifestBlob.digest, size: manifestBlob.size };
    if (name) await leased.setRef(name, descriptor);
    else await leased.keepUnnamed?.(descriptor);
    return configBlob.digest;
  });
}
