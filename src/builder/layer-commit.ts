/** A directory (an overlay upper dir, or a staged tree) → a compressed layer blob in the store. */
import { compressLayer, type Codec } from '../layer/compress.js';
import { diffDirectory } from '../layer/diff.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor } from '../oci/types.js';

export interface CommittedLayer {
  descriptor: Descriptor;
  diffId: string;
}

export async function commitLayer(content: ContentStore, dir: string, opts: { codec: Codec; sourceDateEpoch?: number; overlay?: boolean }): Promise<CommittedLayer> {
  const tar = diffDirectory(dir, { sourceDateEpoch: opts.sourceDateEpoch, overlay: opts.overlay ?? true });
  const { stream, result } = compressLayer(tar, opts.codec);
  const [blob, r] = await Promise.all([content.ingest(stream), result]);
  return { descriptor: { mediaType: r.mediaType, digest: blob.digest, size: blob.size }, diffId: r.diffId };
}
