/**
 * The ImageStore contract: what an image is made of, wherever it is kept — a
 * content store (blobs), a ref store (names → manifests), leases that guard
 * what an operation writes until it is named, and, where the store has them,
 * a snapshotter and a preferred layer codec. kiln's own OCI layout and
 * containerd both implement it; every operation in this folder works on it.
 */
import type { ContentStore, RefStore } from '../content/store.js';
import type { Descriptor } from '../oci/types.js';
import type { Codec } from '../layer/compress.js';
import type { CompressedForms } from '../content/compressed.js';
import type { LayeredSnapshotter } from '../snapshot/snapshotter.js';

export interface ImageStore {
  content: ContentStore;
  refs: RefStore;
  /**
   * Runs fn with `leased`, this store whose writes a lease protects from garbage collection until fn
   * settles. Write through `leased`: the lease is passed, not implied (no AsyncLocalStorage, whose
   * hooks cost every promise of a pull).
   */
  withLease<T>(fn: (leased: ImageStore) => Promise<T>): Promise<T>;
  /** Points a name at a descriptor, recording the ref.name annotation. */
  setRef(name: string, descriptor: Descriptor): Promise<void>;
  /** How new layers (import) are compressed: gzip by default; none where the store is the runtime's own (containerd unpacks them locally, nothing to save on a wire). */
  layerCodec?: Codec;
  /** Where push remembers the compressed form of an uncompressed layer (without it, each push compresses again). */
  compressedForms?: CompressedForms;
  /** Opens the snapshotter one build's steps run on (containerd's on that backend); without it, kiln's own overlay snapshots. */
  snapshotter?(): LayeredSnapshotter;
  /** Keeps an image that has no name (a store whose untagged content is collected needs this). */
  keepUnnamed?(descriptor: Descriptor): Promise<unknown>;
}
