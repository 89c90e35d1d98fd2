/**
 * Pull: registry → store, by the one walk (./copy.ts): the manifest (an index
 * is resolved by platform), its config and layers in parallel (bounded), each streamed
 * into the store's ingest, hashed on the way and verified before it becomes
 * visible; blobs already stored are skipped; an interrupted download resumes
 * from the bytes already on disk (re-hashed by the store), and when the whole
 * then fails verification those kept bytes are dropped and the blob fetched
 * once more from byte 0: they may have come from another, hostile registry,
 * and only a registry that sent every byte is blamed. The tag is written last.
 */
import type { Readable } from 'node:stream';
import { dataLoss } from '../errors.js';
import { whileHeld } from '../content/held-ingest.js';
import { actualOf } from '../content/verification.js';
import { blobSource } from '../registry/blobreader.js';
import { formatReference, identifier, parseNormalizedNamed } from '../name/reference.js';
import { shortId } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { ContentStore } from '../content/store.js';
import type { Repository } from '../registry/repository.js';
import type { RegistryClient } from '../registry/client.js';
import { noProgress, type ProgressSink } from './progress.js';
import type { PullOptions, PullResult } from './types.js';
import { REPO_DIGEST } from './resolve.js';
import type { ImageStore } from './store.js';
import { copyImage } from './copy.js';

const PARALLEL_LAYERS = 3;

/** Streams one blob into the store unless it is there already. Returns false when it was present. */
export async function fetchBlob(
  content: ContentStore,
  repo: Repository,
  desc: Descriptor,
  progress: ProgressSink,
  signal?: AbortSignal,
  /** set when a resumed download failed verification: its kept bytes were dropped, this is the fetch from byte 0 */
  fresh = false,
): Promise<boolean> {
  const id = shortId(desc.digest);
  // Another kiln process fetching the same blob into this store is waited for while its download moves; then look again.
  const writer = await whileHeld(async () => ((await content.stat(desc.digest)) ? undefined : content.writer(desc.digest)), {
    ...(signal ? { signal } : {}),
    onWait: () => progress.emit({ id, status: 'Waiting', detail: 'for another kiln process' }),
  });
  if (!writer) {
    progress.emit({ id, status: 'Already exists' });
    return false;
  }
  let raw: Readable | undefined;
  // Bytes kept from an earlier download (perhaps from another registry) are trusted only if the whole verifies.
  const resumed = writer.offset > 0;
  try {
    if (writer.offset > desc.size) {
      await writer.abort();
      return fetchBlob(content, repo, desc, progress, signal);
    }
    if (writer.offset === desc.size) {
      // An earlier pull downloaded every byte but died before the commit.
      await writer.commit({ digest: desc.digest, size: desc.size });
      progress.emit({ id, status: 'Pull complete' });
      return true;
    }
    // Hashed once, by the store; a mismatch from byte 0 names the registry (misread()).
    const download = await repo.getBlob(desc.digest, {
      offset: writer.offset,
      verify: false,
      size: desc.size,
      progress: (current) => progress.emit({ id, status: 'Downloading', current, total: desc.size }),
    });
    raw = download;
    signal?.addEventListener('abort', () => download.destroy(signal.reason as Error), { once: true });
    // the stream itself, not an iteration of it: the layout store's writer takes its chunks as they come
    await writer.write(download);
    progress.emit({ id, status: 'Verifying' });
    await writer.commit({ digest: desc.digest, size: desc.size });
  } catch (e) {
    // A download the store stopped taking is dropped (else closing the registry client waits for it).
    raw?.destroy();
    // Keep partial bytes for a resume unless they were proved wrong.
    if ((e as { code?: string }).code !== 'DATA_LOSS') {
      await writer.close?.();
      throw e;
    }
    await writer.abort();
    // The kept bytes may be what was wrong, not this registry: drop them and fetch the whole blob once more.
    if (resumed && !fresh) {
      progress.emit({ id, status: 'Retrying', detail: 'bytes kept from an earlier download did not verify; downloading again from the start' });
      return fetchBlob(content, repo, desc, progress, signal, true);
    }
    throw resumed ? e : misread(e, desc, raw);
  }
  progress.emit({ id, status: 'Pull complete' });
  return true;
}

/** A store's failed verification of bytes that all came from one registry, said as that registry's fault. */
function misread(e: unknown, desc: Descriptor, raw: Readable | undefined): unknown {
  const actual = actualOf(e);
  const source = raw && blobSource(raw);
  if (!actual || !source) return e;
  return dataLoss(`blob ${desc.digest} from ${source} hashes to ${actual.digest} (${actual.size} bytes)`, {
    cause: e,
    hint: 'the registry or a proxy altered the content; try again',
  });
}

export async function pullImage(stores: ImageStore, registry: RegistryClient, input: string, opts: PullOptions = {}): Promise<PullResult> {
  const ref = parseNormalizedNamed(input);
  const progress = opts.progress ?? noProgress;
  const repo = registry.repository(ref.domain, ref.path, ['pull']);
  return stores.withLease(async (leased) => {
    // Each manifest is stored as soon as it is read, beside its blobs' downloads (the lease holds it; only
    // the tag, written last, makes the image visible): the end of a pull waits for no more than the last blob.
    const documents = new Map<string, Promise<void>>();
    const store = (d: Descriptor, bytes: Buffer): void => {
      if (documents.has(d.digest)) return;
      const written = leased.content.writeBytes(bytes, { digest: d.digest, size: d.size }).then(() => undefined);
      written.catch(() => undefined); // said by document() below, or by the walk's own failure
      documents.set(d.digest, written);
    };
    const top = await repo.getManifest(identifier(ref));
    store(top.descriptor, top.bytes);
    const image = await copyImage(top, {
      read: async (d) => {
        const bytes = (await repo.getManifest(d.digest)).bytes;
        store(d, bytes);
        return bytes;
      },
      ...(opts.platform ? { platform: opts.platform } : {}),
      planned: (m) => {
        for (const l of m.layers) progress.emit({ id: shortId(l.digest), status: 'Waiting', total: l.size });
      },
      blob: (d, kind) => fetchBlob(leased.content, repo, d, kind === 'config' ? noProgress : progress, opts.signal),
      document: async (d, bytes) => {
        store(d, bytes);
        await documents.get(d.digest);
      },
      parallel: PARALLEL_LAYERS,
    }).catch(async (e: unknown) => {
      // the manifests' writes end before the lease does
      await Promise.allSettled(documents.values());
      throw e;
    });
    const name = formatReference(ref);
    const previous = await leased.refs.get(name);
    // An index is kept as it is (the name stands for every platform; those pulled are stored: ./platform-image.ts).
    const { mediaType, digest, size } = top.descriptor;
    const descriptor: Descriptor = { mediaType, digest, size, annotations: { [REPO_DIGEST]: top.descriptor.digest } };
    await leased.setRef(name, descriptor);
    return {
      reference: name,
      digest: top.descriptor.digest,
      id: image.manifest.config.digest,
      upToDate: !image.copied && previous?.digest === digest,
    };
  });
}
