/** A directory (an overlay upper dir, or a staged tree), or an in-place root's changes → a layer blob in the store (uncompressed unless a codec is asked for). */
import { compressLayer, layerMediaType, type Codec } from '../layer/compress.js';
import { readdirSync, type Stats } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { diffDirectory, type ExtraDataHook, type ExtraFiles } from '../layer/diff.js';
import { packChanges } from '../layer/changes.js';
import { failedPrecondition } from '../errors.js';
import type { LayeredSnapshotter, Mounted } from '../snapshot/snapshotter.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor } from '../oci/types.js';

export interface CommittedLayer {
  descriptor: Descriptor;
  diffId: string;
}

/** How a layer is diffed: see layer/diff.ts's DiffOptions for `extra`, `dirStats`, `dirXattrsOnly` and `onExtraData`. */
export interface LayerOptions {
  codec: Codec;
  sourceDateEpoch?: number;
  extra?: ExtraFiles;
  dirStats?: Map<string, Stats>;
  dirXattrsOnly?: boolean;
  onExtraData?: ExtraDataHook;
}

/** `dirXattrsOnly`: the step wrote only new files, without extended attributes (a COPY; layer/diff.ts). */
export async function commitLayer(content: ContentStore, dir: string, opts: LayerOptions & { overlay?: boolean }): Promise<CommittedLayer> {
  const extra = opts.extra ? { extra: opts.extra } : {};
  const dirStats = opts.dirStats ? { dirStats: opts.dirStats } : {};
  const onExtraData = opts.onExtraData ? { onExtraData: opts.onExtraData } : {};
  return ingestTar(content, diffDirectory(dir, { sourceDateEpoch: opts.sourceDateEpoch, overlay: opts.overlay ?? true, ...extra, ...dirStats, ...onExtraData, ...(opts.dirXattrsOnly ? { dirXattrsOnly: true } : {}) }), opts.codec);
}

/**
 * The layer of a step's writable root (`prepare`d by the snapshotter): its
 * overlay upper dir, or what the step changed in an in-place root. Undefined
 * when nothing changed, unless `always` (a RUN step has a layer even then).
 * `extra`: files the upper dir lacks but the layer has (./deferred-files.ts).
 */
export async function commitMounted(
  content: ContentStore,
  snap: LayeredSnapshotter,
  key: string,
  mounted: Mounted,
  opts: LayerOptions & { always?: boolean },
): Promise<CommittedLayer | undefined> {
  if (mounted.kind === 'in-place' && snap.changes) {
    const changes = await snap.changes(key);
    if (!opts.always && changes.paths.length === 0 && changes.deleted.length === 0) return undefined;
    return ingestTar(content, packChanges(mounted.rootfs, changes, { sourceDateEpoch: opts.sourceDateEpoch }), opts.codec);
  }
  if (mounted.kind !== 'overlay' || !mounted.upper) {
    throw failedPrecondition('the builder needs overlayfs and it could not be mounted here', { hint: 'run kiln as root on a kernel with overlayfs' });
  }
  if (!opts.always && readdirSync(mounted.upper).length === 0) return undefined;
  return commitLayer(content, mounted.upper, opts);
}

async function ingestTar(content: ContentStore, tar: Readable, codec: Codec): Promise<CommittedLayer> {
  if (codec === 'none') {
    // Stored as it is: the store's own hash is the diff ID (one sha256 pass, no stream in between).
    // pipeline: a failed diff fails the ingest (its error reaches the reader), whenever it happens.
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    const [blob] = await Promise.all([content.ingest(out, { mediaType: layerMediaType('none') }), pipeline(tar, out)]);
    return { descriptor: { mediaType: layerMediaType('none'), digest: blob.digest, size: blob.size }, diffId: blob.digest };
  }
  const { stream, result } = compressLayer(tar, codec);
  const [blob, r] = await Promise.all([content.ingest(stream), result]);
  return { descriptor: { mediaType: r.mediaType, digest: blob.digest, size: blob.size }, diffId: r.diffId };
}

/**
 * Runs `read` (which reads only the overlay's upper dir) while the root is unmounted (snapshotter.detach): the
 * unmount syncs the upper filesystem, and that wait overlaps the read. An unmount that failed is tried again by
 * commit or remove.
 */
export async function whileDetaching<T>(snap: LayeredSnapshotter, key: string, mounted: Mounted, read: () => Promise<T>): Promise<T> {
  const detached = mounted.kind === 'overlay' && mounted.upper ? snap.detach?.(key).catch(() => undefined) : undefined;
  try {
    return await read();
  } finally {
    await detached;
  }
}
