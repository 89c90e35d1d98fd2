/**
 * What makes an image in containerd's store usable by the CRI and `ctr run`
 * without another step, written the way containerd itself writes it:
 *  - GC references on the blobs (`containerd.io/gc.ref.content.m.N` on an
 *    index, `…content.config` and `…content.l.N` on a manifest), so the image
 *    record alone keeps everything alive once kiln's lease is gone;
 *  - every layer unpacked into the snapshotter (overlayfs) through the diff
 *    service: Prepare(`extract-… CHAINID`, parent) → Apply → Commit(CHAINID),
 *    the snapshot labelled `containerd.io/snapshot.ref`; the layer blob then
 *    labelled `containerd.io/uncompressed` = its verified diff ID, and the
 *    config `containerd.io/gc.ref.snapshot.overlayfs` = the top chain ID.
 */
import { randomBytes } from 'node:crypto';
import { dataLoss, isKilnError } from '../../errors.js';
import { isIndexType } from '../../oci/mediatypes.js';
import { chainIds } from '../../oci/config.js';
import { parseConfig, parseImageManifest, parseIndex } from '../../oci/parse.js';
import { hostPlatform, selectManifest } from '../../oci/platform.js';
import type { Descriptor, Manifest } from '../../oci/types.js';
import { ContainerdContentStore, UNCOMPRESSED_LABEL } from './content.js';
import type { ContainerdConnection, Message } from './grpc.js';

export interface UnpackContext {
  conn: ContainerdConnection;
  content: ContainerdContentStore;
  snapshotter: string;
  /**
   * On a leased context: the snapshots (chain IDs) known to exist and held by its lease, those committed or found
   * under it (./snapshotter.ts, snapshotExists). Publishing a build's image asks containerd nothing more about them.
   */
  held?: Set<string>;
}

/**
 * `ctx` over `conn`, a leased view of its connection (lease.ts): content and snapshots it touches are held by that
 * lease. `conn` being ctx's own (a nested withLease hands the lease on): ctx itself, with what it knows it holds.
 */
export const leasedContext = (ctx: UnpackContext, conn: ContainerdConnection): UnpackContext =>
  conn === ctx.conn ? ctx : { ...ctx, conn, content: new ContainerdContentStore(conn), held: new Set() };

/** The image manifest a target names: itself, or the host platform's entry of an index (labelled on the way). */
export async function platformManifest(ctx: UnpackContext, target: Descriptor): Promise<{ descriptor: Descriptor; manifest: Manifest }> {
  if (!isIndexType(target.mediaType)) {
    return { descriptor: target, manifest: parseImageManifest(await ctx.content.readBytes(target.digest), target.mediaType) };
  }
  const index = parseIndex(await ctx.content.readBytes(target.digest), target.mediaType);
  // The host's entry among those stored (a pull stores the platforms asked for), else the first stored.
  const stored = await storedEntries(ctx, index.manifests);
  let chosen: Descriptor | undefined;
  try {
    chosen = selectManifest({ ...index, manifests: stored }, hostPlatform());
  } catch (e) {
    if (!isKilnError(e, 'NOT_FOUND')) throw e;
    chosen = stored[0];
  }
  // Nothing stored: the host's entry, whose absence is then the error.
  return platformManifest(ctx, chosen ?? selectManifest(index, hostPlatform()));
}

async function storedEntries(ctx: UnpackContext, entries: Descriptor[]): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  for (const d of entries) if (d.platform && d.platform.os !== 'unknown' && (await ctx.content.stat(d.digest))) out.push(d);
  return out;
}

/** GC labels of one image manifest: its config and layers. */
async function labelManifest(ctx: UnpackContext, descriptor: Descriptor, manifest: Manifest): Promise<void> {
  const labels: Record<string, string> = { 'containerd.io/gc.ref.content.config': manifest.config.digest };
  manifest.layers.forEach((l, i) => (labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest));
  await ctx.content.ensureLabels(descriptor.digest, labels);
}

async function labelIndex(ctx: UnpackContext, target: Descriptor): Promise<void> {
  const index = parseIndex(await ctx.content.readBytes(target.digest), target.mediaType);
  const labels: Record<string, string> = {};
  for (const [i, m] of index.manifests.entries()) {
    if (await ctx.content.stat(m.digest)) labels[`containerd.io/gc.ref.content.m.${i}`] = m.digest;
  }
  await ctx.content.setLabels(target.digest, labels);
}

/**
 * Like ContainerdContentStore.stat: under a lease, a snapshot found is held by it until the config's GC label
 * references it (one the lease is known to hold, ctx.held, is not asked about again).
 */
export async function snapshotExists(ctx: UnpackContext, key: string): Promise<boolean> {
  const lease = ctx.conn.lease();
  if (lease && ctx.held?.has(key)) return true;
  if (lease) await ctx.conn.unary('leases', 'AddResource', { id: lease, resource: { id: key, type: `snapshots/${ctx.snapshotter}` } }, `lease ${lease}`);
  try {
    await ctx.conn.unary('snapshots', 'Stat', { snapshotter: ctx.snapshotter, key }, `snapshot ${key}`);
    if (lease) ctx.held?.add(key);
    return true;
  } catch (e) {
    if (isKilnError(e, 'NOT_FOUND')) return false;
    throw e;
  }
}

/**
 * Makes the snapshot of `chainId` (unless it exists: a build commits its
 * layers' snapshots itself) and labels the blob with its diff ID.
 */
export async function unpackLayer(ctx: UnpackContext, layer: Descriptor, diffId: string, chainId: string, parent: string | undefined): Promise<void> {
  if (!(await snapshotExists(ctx, chainId))) await applyLayer(ctx, layer, diffId, chainId, parent);
  await ctx.content.setLabels(layer.digest, { [UNCOMPRESSED_LABEL]: diffId });
}

async function applyLayer(ctx: UnpackContext, layer: Descriptor, diffId: string, chainId: string, parent: string | undefined): Promise<void> {
  const snapshotter = ctx.snapshotter;
  const labels = { 'containerd.io/snapshot.ref': chainId };
  const key = `extract-${randomBytes(6).toString('hex')} ${chainId}`;
  const prepared = await ctx.conn.unary('snapshots', 'Prepare', { snapshotter, key, parent: parent ?? '', labels }, `snapshot ${chainId}`);
  try {
    const applied = await ctx.conn.unary('diff', 'Apply', { diff: { media_type: layer.mediaType, digest: layer.digest, size: layer.size, annotations: layer.annotations ?? {} }, mounts: prepared.mounts as Message[] }, `layer ${layer.digest}`);
    const got = (applied.applied as Message).digest as string;
    if (got !== diffId) throw dataLoss(`layer ${layer.digest}: unpacked to diff ID ${got}, the image config says ${diffId}`);
    try {
      await ctx.conn.unary('snapshots', 'Commit', { snapshotter, name: chainId, key, labels }, `snapshot ${chainId}`);
    } catch (e) {
      if (!isKilnError(e, 'ALREADY_EXISTS')) throw e; // unpacked meanwhile by someone else: fine
      await ctx.conn.unary('snapshots', 'Remove', { snapshotter, key }, `snapshot ${key}`).catch(() => undefined);
    }
  } catch (e) {
    await ctx.conn.unary('snapshots', 'Remove', { snapshotter, key }, `snapshot ${key}`).catch(() => undefined);
    throw e;
  }
}

/** Labels an image's blobs for containerd's GC and unpacks it into the snapshotter. Returns the config digest (the image ID). */
export async function publishImage(ctx: UnpackContext, target: Descriptor): Promise<string> {
  if (isIndexType(target.mediaType)) {
    await labelIndex(ctx, target);
    // Every stored platform's blobs are kept (a multi-platform build stores them all); the host's is unpacked.
    for (const d of await storedEntries(ctx, parseIndex(await ctx.content.readBytes(target.digest), target.mediaType).manifests)) {
      if (!isIndexType(d.mediaType)) await labelManifest(ctx, d, parseImageManifest(await ctx.content.readBytes(d.digest), d.mediaType));
    }
  }
  const { descriptor, manifest } = await platformManifest(ctx, target);
  const [, configBytes] = await Promise.all([labelManifest(ctx, descriptor, manifest), ctx.content.readBytes(manifest.config.digest)]);

  const config = parseConfig(configBytes);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw dataLoss(`image ${descriptor.digest}: ${manifest.layers.length} layers but ${diffIds.length} diff IDs in its config`);
  }
  const chain = chainIds(diffIds);
  // Every layer's snapshot looked up at once (a build has committed them all: no round trip waits for another);
  // the missing ones unpacked bottom first, each on its parent; then every blob labelled at once: each layer with
  // its diff ID, the config with its top snapshot (which exists by then).
  const present = await Promise.all(chain.map((c) => snapshotExists(ctx, c)));
  for (const [i, layer] of manifest.layers.entries()) {
    if (!present[i]) await applyLayer(ctx, layer, diffIds[i]!, chain[i]!, i > 0 ? chain[i - 1] : undefined);
  }
  // Each only where it is not set already (a build's uncompressed layers got theirs at their commit; the base's at its pull).
  await Promise.all([
    ...manifest.layers.map((l, i) => ctx.content.ensureLabels(l.digest, { [UNCOMPRESSED_LABEL]: diffIds[i]! })),
    ...(chain.length > 0 ? [ctx.content.ensureLabels(manifest.config.digest, { [`containerd.io/gc.ref.snapshot.${ctx.snapshotter}`]: chain[chain.length - 1]! })] : []),
  ]);
  return manifest.config.digest;
}
