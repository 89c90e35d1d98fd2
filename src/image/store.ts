/** What the local engine works on: the store under --root and a registry client. */
import type { ContentStore, RefStore } from '../content/store.js';
import type { Descriptor } from '../oci/types.js';
import type { RegistryClient } from '../registry/client.js';
import type { Codec } from '../layer/compress.js';
import type { LayeredSnapshotter } from '../snapshot/snapshotter.js';

export interface LocalStores {
  root: string;
  content: ContentStore;
  refs: RefStore;
  registry: RegistryClient;
  /** Runs fn while blobs written by it are protected from garbage collection. */
  withLease<T>(fn: () => Promise<T>): Promise<T>;
  /** Points a name at a descriptor, recording the ref.name annotation. */
  setRef(name: string, descriptor: Descriptor): Promise<void>;
  /** How new layers (import) are compressed: gzip by default; none where the store is the runtime's own (containerd unpacks them locally, nothing to save on a wire). */
  layerCodec?: Codec;
  /** The snapshotter build steps run on: kiln's own under root by default; containerd's on that backend. */
  snapshotter?: LayeredSnapshotter;
  /** Keeps an image that has no name (a store whose untagged content is collected needs this). */
  keepUnnamed?(descriptor: Descriptor): Promise<unknown>;
}
