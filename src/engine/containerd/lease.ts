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

/**
 * Runs fn with a view of `conn` under a fresh lease (named `id` when given); a
 * view already leased is handed on as it is (nested calls share its lease).
 */
export async function withLease<T>(conn: ContainerdConnection, fn: (leased: ContainerdConnection) => Promise<T>, id = newLeaseId()): Promise<T> {
  if (conn.lease()) return fn(conn);
  const labels = { 'containerd.io/gc.expire': new Date(Date.now() + EXPIRE_MS).toISOString().replace(/\.\d+Z$/, 'Z') };
  await conn.unary('leases', 'Create', { id, labels }, `lease ${id}`);
  try {
    return await fn(conn.leased(id));
  } finally {
    await conn.unary('leases', 'Delete', { id, sync: false }, `lease ${id}`).catch(() => undefined);
  }
}
