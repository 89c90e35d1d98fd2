/** Test content: random blobs with their digests, streams of buffers, a tiny valid image. */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';

export interface TestBlob {
  bytes: Buffer;
  digest: string;
  size: number;
}

export function blobOf(bytes: Buffer): TestBlob {
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

export const randomBlob = (size: number): TestBlob => blobOf(randomBytes(size));

/** A Readable of `bytes` in chunks of `chunk` bytes. */
export function streamOf(bytes: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
  );
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

export interface TestImage {
  config: TestBlob;
  layer: TestBlob;
  manifest: TestBlob;
  mediaType: string;
}

/**
 * An OCI image: one gzip layer of `layerSize` random bytes (not a tar: registries and
 * skopeo copy do not look inside), a minimal config, the manifest bytes.
 */
export function tinyImage(layerSize = 1024): TestImage {
  const raw = randomBlob(layerSize);
  return imageOfLayer(raw.bytes, gzipSync(raw.bytes, { level: 1 }));
}

/** An OCI image of one gzip layer (`gzipped`, whose uncompressed bytes are `raw`) for this machine's architecture: config and manifest made around it. */
export function imageOfLayer(raw: Buffer, gzipped: Buffer, arch = 'amd64'): TestImage {
  const layer = blobOf(gzipped);
  const config = blobOf(
    Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [blobOf(raw).digest] }, config: {} })),
  );
  const mediaType = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = blobOf(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
      }),
    ),
  );
  return { config, layer, manifest, mediaType };
}
