/** kiln's local content store: an OCI image layout with verified ingests, atomic tags, leases, GC and check. */
export type { BlobInfo, ContentStore, Expected, IngestWriter, NamedRef, RefStore } from './store.js';
export { openStore, withLease, type LocalStore, type StoreOptions } from './layout.js';
export { collectGarbage, reachable, type GcResult } from './gc.js';
export { checkStore, type Problem, type ProblemKind } from './check.js';
export { REF_NAME } from './refs.js';
export type { Lease } from './lease.js';
export { childrenOf } from './walk.js';
