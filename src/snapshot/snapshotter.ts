/**
 * The snapshotter contract (containerd's shape, reduced): an image's layers
 * unpacked once, keyed by chain ID, shared by every container; a container
 * gets a writable root on top (Prepare) that Remove takes away.
 */
import type { Descriptor } from '../oci/types.js';
import type { ChangeList } from '../layer/changes.js';
import type { ExtractGuard } from '../layer/extract.js';

export interface Mounted {
  /** The container's root filesystem path, ready for runc. */
  rootfs: string;
  /** How it was made: an overlay mount, a full copy, or the one in-place root (`kiln executor`, changes found by walking it). */
  kind: 'overlay' | 'copy' | 'in-place';
  /** The overlay's upper directory (the container's changes), when kind is overlay. */
  upper?: string;
  /** In-place roots: the paths no step may write (kiln's own files) or should leave alone (mounts). */
  guard?: ExtractGuard;
}

/** One layer of a chain to unpack, bottom first. */
export interface ChainLayer {
  chainId: string;
  open: () => Promise<NodeJS.ReadableStream>;
  /** The layer blob and its diff ID, for snapshotters that unpack through a service of their own (containerd's diff service). */
  descriptor?: Descriptor;
  diffId?: string;
}

export interface Snapshotter {
  /** Unpacks the chain (each layer once) and returns a handle of the top chain ID (its directory, or a snapshot name). */
  unpack(layers: ChainLayer[]): Promise<string>;
  /** A writable root for `key` on top of an unpacked chain. */
  prepare(key: string, chainDir: string): Promise<Mounted>;
  /** Unmounts and deletes the writable root of `key`; fine when it is already gone. */
  remove(key: string): Promise<void>;
}

/** The snapshotter builds use: read-only views and writable roots whose upper dir becomes the next layer. */
export interface LayeredSnapshotter extends Snapshotter {
  /** A read-only root of the chain (for reading files, COPY --from, outputs); `remove(key)` ends it. */
  view(key: string, chainDir: string): Promise<Mounted>;
  /**
   * Ends the writable root of `key` and keeps its upper dir as the snapshot of
   * `chainId` (the chain of the root's layers plus the layer made from that
   * upper dir). Returns the new chain handle. Only for overlay roots.
   */
  commit(key: string, chainId: string): Promise<string>;
  /**
   * Unmounts the writable root of `key` now, keeping its upper dir for `commit` (or `remove`): a step that
   * from here on only reads that upper dir (its layer's diff) lets the unmount, and the sync of the upper
   * filesystem it makes, run beside that read. Optional: without it, `commit` unmounts.
   */
  detach?(key: string): Promise<void>;
  /** In-place roots (kind `in-place`): what the step holding `key` changed, found by a snapshot walk. */
  changes?(key: string): Promise<ChangeList>;
  /**
   * Images built here are unpacked into this snapshotter at once (containerd's: the kubelet runs them): every
   * layer step keeps its root as the layer's snapshot, the final COPY too (its files are not deferred to the
   * layer alone, ../builder/deferred-files.ts, which would only make the image's publish unpack them again).
   */
  keepsEveryLayer?: boolean;
}
