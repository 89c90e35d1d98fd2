/**
 * Push: store → registry, by the one walk (./copy.ts). Each blob is checked with HEAD first, mounted
 * from another repository of the same registry when the image has a tag there,
 * uploaded otherwise (streamed from the store); the manifest goes last. No ping first: the biggest blob's HEAD is
 * the push's first request (../registry/transport/transport.ts early). The biggest blob's requests go
 * first (./push-first.ts).
 * Uncompressed layers (a build's) go as their gzip form (./push-compress.ts).
 */
import { formatReference, identifier, parseNormalizedNamed } from '../name/reference.js';
import { shortId } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { PushBlobOptions, Repository } from '../registry/repository.js';
import type { RegistryClient } from '../registry/client.js';
import { noProgress, type ProgressSink } from './progress.js';
import type { PushOptions, PushResult } from './types.js';
import { parseReference } from '../name/reference.js';
import { resolveImage } from './resolve.js';
import type { ImageStore } from './store.js';
import { walkImage } from './copy.js';
import { pushTree } from './push-index.js';
import { counting } from './counting.js';
import { biggestFirst, type BlobTurn } from './push-first.js';

const PARALLEL_UPLOADS = 3;

/** One stored blob → repo: skipped when the registry has it, mounted from `mountFrom` when it can be, else streamed. */
export async function pushBlob(stores: ImageStore, repo: Repository, desc: Descriptor, mountFrom: string[], progress: ProgressSink, opts: PushBlobOptions = {}): Promise<boolean> {
  const id = shortId(desc.digest);
  if ((await repo.statBlob(desc.digest)) !== undefined) {
    progress.emit({ id, status: 'Layer already exists' });
    return false;
  }
  for (const from of mountFrom) {
    if (await repo.mountBlob(desc.digest, from)) {
      progress.emit({ id, status: 'Mounted', detail: `from ${from}` });
      return true;
    }
  }
  progress.emit({ id, status: 'Preparing', total: desc.size });
  await repo.pushBlob({ digest: desc.digest, size: desc.size }, async () => {
    const stream = await stores.content.reader(desc.digest);
    return counting(stream, 0, (current) => progress.emit({ id, status: 'Pushing', current, total: desc.size }));
  }, opts);
  progress.emit({ id, status: 'Pushed' });
  return true;
}

export async function pushImage(stores: ImageStore, registry: RegistryClient, input: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseNormalizedNamed(input);
  const repo = registry.repository(ref.domain, ref.path, ['pull', 'push']);
  // No ping first: the biggest blob's HEAD is the push's first request, and its answer tells what the ping would
  // (registry/transport/transport.ts early).
  const image = await resolveImage(stores.content, stores.refs, input, opts.platform);
  const progress = opts.progress ?? noProgress;
  // Other repositories on the same registry that hold this image: blobs can be mounted from them.
  const mountFrom = image.refs
    .map((r) => parseReference(r.name))
    .filter((r) => r.domain === ref.domain && r.path !== ref.path)
    .map((r) => r.path);
  // `--platform`: that platform's manifest of an index, alone.
  // Its document as resolving read it (not read again).
  const stored = opts.platform ? image.manifest : image.target;
  // The gzip forms made for this push are leased until it ends (then kept by their records).
  return stores.withLease(async (leased) => {
    const { root, made } = await pushTree(leased, stored);
    let digest = '';
    let turn: BlobTurn | undefined;
    // An index: every platform stored here goes (each manifest by its digest), then the index under the tag.
    await walkImage(root, {
      read: async (d) => made.get(d.digest) ?? leased.content.readBytes(d.digest),
      every: { has: async (d) => made.has(d.digest) || (await leased.content.stat(d.digest)) !== undefined },
      planned: (m) => (turn = biggestFirst(m)),
      blob: async (d, kind) =>
        turn!(d.digest, (onSession) => pushBlob(leased, repo, d, mountFrom, kind === 'config' ? noProgress : progress, { onSession, ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}) })),
      // The image's own manifest goes under the tag; one an index names, by its digest.
      document: async (d, bytes) => {
        const tagged = d.digest === root.descriptor.digest;
        const pushed = await repo.putManifest(tagged ? identifier(ref) : d.digest, bytes, d.mediaType);
        if (tagged) digest = pushed;
      },
      parallel: PARALLEL_UPLOADS,
    });
    return { reference: formatReference(ref), tag: ref.tag, digest, size: root.bytes.length };
  });
}
