/** kiln's OCI-layout store (content/layout.ts) as an ImageStore. */
import { withLease, type LocalStore } from '../content/layout.js';
import type { LayeredSnapshotter } from '../snapshot/snapshotter.js';
import type { ImageStore } from './store.js';

/**
 * Blobs, refs, leases and unnamed images kept by ref; with `rememberCompressed`, push keeps the compressed form
 * of each uncompressed layer it sends in the store (a second push compresses nothing; one-shot stores such as the
 * executor's leave it off and do not write each layer twice). With `snapshotter`, builds on this store (and on
 * its leased views) run their steps on it rather than on kiln's overlay snapshots (the executor's in-place one).
 */
export function layoutImageStore(
  store: LocalStore,
  opts: { rememberCompressed?: boolean; snapshotter?: () => LayeredSnapshotter } = {},
): ImageStore {
  return {
    content: store.content,
    refs: store.refs,
    withLease: (fn) => withLease(store, (leased) => fn(layoutImageStore(leased, opts))),
    setRef: (name, d) => store.refs.set(name, d),
    keepUnnamed: (d) => store.refs.keep(d),
    ...(opts.rememberCompressed ? { compressedForms: store.compressed } : {}),
    ...(opts.snapshotter ? { snapshotter: opts.snapshotter } : {}),
  };
}
