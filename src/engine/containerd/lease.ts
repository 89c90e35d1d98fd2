/**
 * containerd leases: what kiln writes (blobs, snapshots) is held by a lease
 * until an image record references it, then the lease goes. The lease
 * expires by itself after an hour, so a killed kiln leaves nothing held
 * forever: containerd's GC frees it.
 */
import { randomUUID } from 'node:crypto';
import type { ContainerdConnection } from './grpc.js';

const EXPIRE_MS = 60 * 60 * 1000;

export const newLeaseId = (): string => `kiln-${randomUUID()}`;

/** Runs fn under a fresh lease (named `id` when given), or under the one already active (nested calls share it). */
export async function withLease<T>(conn: ContainerdConnection, fn: () => Promise<T>, id = newLeaseId()): Promise<T> {
  if (conn.lease()) return fn();
  const labels = { 'containerd.io/gc.expire': new Date(Date.now() + EXPIRE_MS).toISOString().replace(/\.\d+Z$/, 'Z') };
  await conn.unary('leases', 'Create', { id, labels }, `lease ${id}`);
  try {
    return await conn.withLeaseId(id, fn);
  } finally {
    await conn.unary('leases', 'Delete', { id, sync: false }, `lease ${id}`).catch(() => undefined);
  }
}
