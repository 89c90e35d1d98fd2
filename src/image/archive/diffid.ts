/** The diff ID of a stored layer: the sha256 of its uncompressed tar, computed streaming. */
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { unimplemented } from '../../errors.js';
import type { ContentStore } from '../../content/store.js';
import { type Compression, peek, sniffCompression } from './peek.js';

export interface LayerDigests {
  diffId: string;
  compression: Compression;
}

export async function layerDiffId(content: ContentStore, digest: string): Promise<LayerDigests> {
  const { head, stream } = await peek(await content.reader(digest));
  const compression = sniffCompression(head);
  if (compression === 'none') {
    stream.destroy();
    return { diffId: digest, compression };
  }
  if (compression === 'zstd') {
    stream.destroy();
    throw unimplemented(`layer ${digest} is zstd-compressed; kiln cannot check its diff_id on Node ${process.versions.node}`, {
      hint: 'save the image with gzip or uncompressed layers',
    });
  }
  const hash = createHash('sha256');
  await pipeline(stream, createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
    for await (const c of chunks) hash.update(c);
  });
  return { diffId: `sha256:${hash.digest('hex')}`, compression };
}
