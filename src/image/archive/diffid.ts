/** The diff ID of a layer: the sha256 of its uncompressed tar, computed streaming. */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ContentStore } from '../../content/store.js';
import { decompress, peekHead, sniffCodec, type Codec } from '../../layer/compress.js';

export interface LayerDigests {
  diffId: string;
  compression: Codec;
}

/**
 * Passes `source` through unchanged while computing what a layer's diff ID
 * would be (gunzip + sha256 on the side), so a spooled archive file is read
 * once. `result()` is undefined for uncompressed data (diff ID = digest),
 * zstd, or bytes that turned out not to be gzip.
 */
export async function withDiffId(source: Readable): Promise<{ stream: AsyncIterable<Buffer>; result: () => Promise<LayerDigests | undefined> }> {
  const { head, stream } = await peekHead(source, 4);
  const compression = sniffCodec(head);
  if (compression !== 'gzip') return { stream, result: async () => undefined };
  const gunzip = createGunzip();
  const hash = createHash('sha256');
  gunzip.on('data', (c: Buffer) => hash.update(c));
  let failed = false;
  const finished = new Promise<void>((resolve) => {
    gunzip.on('end', resolve);
    gunzip.on('error', () => {
      failed = true;
      resolve();
    });
  });
  async function* tee(): AsyncGenerator<Buffer> {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // Keep memory flat: wait when gunzip falls behind (or stop feeding it once it failed).
      if (!failed && !gunzip.write(chunk)) await Promise.race([once(gunzip, 'drain'), finished]);
      yield chunk;
    }
    gunzip.end();
  }
  return {
    stream: tee(),
    result: async () => {
      await finished;
      return failed ? undefined : { diffId: `sha256:${hash.digest('hex')}`, compression };
    },
  };
}

/** Reads a stored layer to find its diff ID and compression. */
export async function layerDiffId(content: ContentStore, digest: string): Promise<LayerDigests> {
  const source = await content.reader(digest);
  const { head, stream } = await peekHead(source, 4);
  const compression = sniffCodec(head);
  if (compression === 'none') {
    source.destroy();
    return { diffId: digest, compression };
  }
  const hash = createHash('sha256');
  for await (const c of await decompress(stream)) hash.update(c as Buffer);
  return { diffId: `sha256:${hash.digest('hex')}`, compression };
}
