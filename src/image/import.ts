/**
 * `kiln import`: a root filesystem tarball (plain, gzip or zstd) becomes a
 * one-layer image, like `docker import`, with `--change` applied to its config.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { tarChecked } from '../layer/tar-check.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import { MediaType } from '../oci/mediatypes.js';
import { applyChanges, newConfig } from '../oci/config.js';
import { hostPlatform } from '../oci/platform.js';
import { compressLayer, decompress, type Codec } from '../layer/compress.js';
import type { Manifest } from '../oci/types.js';
import type { ImportOptions } from './types.js';
import type { ImageStore } from './store.js';

const LAYER_TYPE: Record<Codec, string> = { gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd, none: MediaType.OciLayer };

export async function importRootfs(stores: ImageStore, input: Readable, opts: ImportOptions = {}): Promise<string> {
  const name = opts.reference ? formatReference(parseNormalizedNamed(opts.reference)) : undefined;
  return stores.withLease(async (leased) => {
    const tar = tarChecked(`import: ${opts.source ?? 'standard input'}`, 'give a root filesystem tarball (tar, tar.gz or tar.zst)');
    pipeline(await decompress(input), tar).catch(() => undefined); // a failure reaches the layer's ingest through `tar`
    const codec = leased.layerCodec ?? 'gzip';
    const { stream, result } = compressLayer(tar, codec);
    const [blob, layer] = await Promise.all([leased.content.ingest(stream), result]);
    const created = new Date().toISOString();
    const config = applyChanges(newConfig(opts.platform ?? hostPlatform()), opts.changes ?? []);
    config.created = created;
    config.rootfs = { type: 'layers', diff_ids: [layer.diffId] };
    config.history = [{ created, created_by: `kiln import ${opts.source ?? '-'}`, comment: opts.message ?? `Imported from ${opts.source ?? '-'}` }];
    const configBlob = await leased.content.writeBytes(JSON.stringify(config));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configBlob.digest, size: configBlob.size },
      layers: [{ mediaType: LAYER_TYPE[codec], digest: blob.digest, size: blob.size }],
    };
    const manifestBlob = await leased.content.writeBytes(JSON.stringify(manifest));
    const descriptor = { mediaType: MediaType.OciManifest, digest: manifestBlob.digest, size: manifestBlob.size };
    if (name) await leased.setRef(name, descriptor);
    else await leased.keepUnnamed?.(descriptor);
    return configBlob.digest;
  });
}
