/**
 * containerd collects what no image, lease or container references on its
 * own schedule; deleting a lease with `sync` runs that collection now, so a
 * prune can report what it gave back (the content store's bytes before and
 * after).
 */
import type { ContentStore } from '../../content/store.js';
import type { ContainerdConnection } from './grpc.js';

async function usage(content: ContentStore): Promise<{ n: number; bytes: number }> {
  let n = 0;
  let bytes = 0;
  for await (const b of content.list()) {
    n++;
    bytes += b.size;
  }
  return { n, bytes };
}

/** Runs containerd's garbage collection now; resolves to the blobs and bytes it freed. */
export async function collectNow(conn: ContainerdConnection, content: ContentStore): Promise<{ blobsRemoved: number; bytesFreed: number }> {
  const before = await usage(content);
  const id = `kiln-prune-${process.pid}-${Date.now()}`;
  await conn.unary('leases', 'Create', { id, labels: {} }, `lease ${id}`);
  await conn.unary('leases', 'Delete', { id, sync: true }, `lease ${id}`);
  const after = await usage(content);
  return { blobsRemoved: Math.max(0, before.n - after.n), bytesFreed: Math.max(0, before.bytes - after.bytes) };
}
