/**
 * kiln's local content store: an OCI image layout under `--root` with
 * verified, resumable ingests, atomic tags, leases, GC and check.
 *
 *   const store = await openStore(root);                 // creates the layout if new
 *   await withLease(store, async (leased, lease) => {    // blobs written through `leased` are safe from GC
 *     const w = await leased.content.writer(digest);     // resumes after a crash: w.offset
 *     await w.write(body); await w.commit({ digest, size });
 *     await lease.add(reusedDigest);                     // protect blobs you skipped (add, then stat)
 *     await leased.refs.set('docker.io/library/busybox:latest', manifestDescriptor);
 *   });
 *   await collectGarbage(store);                         // `kiln system prune`
 *   await checkStore(store);                             // `kiln system check`
 *   await store.close();                                 // drops the default lease
 */
export type { BlobInfo, ContentStore, Expected, IngestWriter, NamedRef, RefStore } from './store.js';
export { openStore, withLease, type LocalStore, type StoreOptions } from './layout.js';
export { collectGarbage, reachable, type GcResult } from './gc.js';
export { checkStore, type Problem, type ProblemKind } from './check.js';
export { REF_NAME } from './refs.js';
export type { Lease } from './lease.js';
export { childrenOf } from './walk.js';
