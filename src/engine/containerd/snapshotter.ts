/**
 * The build snapshotter over containerd's Snapshots service (the
 * LayeredSnapshotter contract, sibling of kiln's own ../../snapshot/overlay.ts):
 * step roots are containerd snapshots, so a built image needs no unpack.
 *  - unpack: a chain is the snapshot named by its top chain ID; the base
 *    image's layers are normally committed already (pull, import, load);
 *    a missing one is unpacked through the diff service (./unpack.ts);
 *  - prepare / view: Prepare or View on the chain, the mounts containerd
 *    returns mounted on this host (kiln runs as root beside containerd);
 *  - detach: the root unmounted while its upper dir is diffed (step roots are
 *    mounted `volatile`: no sync of the upper filesystem at the unmount);
 *  - commit: unmount (unless detached), then Commit(name = chain ID) with the label
 *    containerd's own unpacker writes (`containerd.io/snapshot.ref`): the
 *    step's upper dir, already diffed into the layer blob, is the snapshot.
 * Everything is made under the build's lease (containerd adds what Prepare,
 * View and Commit create to it), and mount records (../../snapshot/mount-records.ts) let
 * the next build clear what a killed one left.
 */
import { internal, isKilnError } from '../../errors.js';
import type { ChainLayer, LayeredSnapshotter, Mounted } from '../../snapshot/snapshotter.js';
import { MountRecords } from '../../snapshot/mount-records.js';
import type { Message } from './grpc.js';
import { mountAll, toMounts, unmount, upperOf } from './mount.js';
import { snapshotExists, unpackLayer, type UnpackContext } from './unpack.js';

export const SNAPSHOT_REF = 'containerd.io/snapshot.ref';

export function containerdSnapshotter(ctx: UnpackContext, mountsDir: string): LayeredSnapshotter {
  const records = new MountRecords<{ lease?: string }>(mountsDir);
  const snapshotter = ctx.snapshotter;
  /** Chains known to exist and held by this build's lease (the leased context's own set: publishImage reads it). */
  const held = ctx.held ?? new Set<string>();
  /** Roots unmounted ahead of their commit (detach), whose upper dir is being diffed. */
  const detached = new Map<string, Promise<void>>();
  /** Unmounts the root of `key` once: a detached one is not unmounted again. */
  const unmountRoot = (key: string) => {
    const d = detached.get(key);
    detached.delete(key);
    return d ? d.catch(() => unmount(records.rootfs(key))) : unmount(records.rootfs(key));
  };
  const call = (method: string, req: Message, what: string) => ctx.conn.unary('snapshots', method, { snapshotter, ...req }, what);

  async function removeSnapshot(key: string): Promise<void> {
    try {
      await call('Remove', { key }, `snapshot ${key}`);
    } catch (e) {
      if (!isKilnError(e, 'NOT_FOUND')) throw e;
    }
  }

  let cleared: Promise<void> | undefined;
  /** What builds killed earlier left: their mounts, active snapshots and leases. */
  const clearStale = () =>
    (cleared ??= (async () => {
      await records.clearStale(unmount, async (rec) => {
        await removeSnapshot(rec.key).catch(() => undefined);
        if (rec.lease) await ctx.conn.unary('leases', 'Delete', { id: rec.lease, sync: false }, `lease ${rec.lease}`).catch(() => undefined);
      });
    })());

  /** Prepare or View `key` on `parent`, mounted at its mount point; nothing is left behind when it fails. */
  async function mountSnapshot(method: 'Prepare' | 'View', key: string, parent: string): Promise<Mounted> {
    await clearStale();
    const lease = ctx.conn.lease();
    const rootfs = await records.claim(key, lease ? { lease } : {});
    let made = false;
    try {
      const res = await call(method, { key, parent, labels: {} }, `snapshot ${key}`);
      made = true;
      const mounts = toMounts(res.mounts as Message[]);
      await mountAll(mounts, rootfs, { volatile: method === 'Prepare' });
      const upper = method === 'Prepare' ? upperOf(mounts) : undefined;
      return { rootfs, kind: 'overlay', ...(upper ? { upper } : {}) };
    } catch (e) {
      await unmount(rootfs);
      if (made) await removeSnapshot(key).catch(() => undefined);
      await records.release(key);
      throw e;
    }
  }

  return {
    keepsEveryLayer: true,

    async unpack(layers: ChainLayer[]): Promise<string> {
      const top = layers.at(-1)?.chainId;
      if (top === undefined) return '';
      if (held.has(top)) return top;
      // The highest snapshot that exists (normally the top), then what is missing above it.
      let have = layers.length - 1;
      while (have >= 0 && !(await snapshotExists(ctx, layers[have]!.chainId))) have--;
      for (let i = have + 1; i < layers.length; i++) {
        const l = layers[i]!;
        if (!l.descriptor || !l.diffId) throw internal(`layer ${i} of chain ${top}: no blob descriptor to unpack it into containerd`);
        await unpackLayer(ctx, l.descriptor, l.diffId, l.chainId, i > 0 ? layers[i - 1]!.chainId : undefined);
      }
      held.add(top);
      return top;
    },

    prepare: (key, chain) => mountSnapshot('Prepare', key, chain),
    view: (key, chain) => mountSnapshot('View', key, chain),

    detach(key) {
      const d = unmount(records.rootfs(key));
      detached.set(key, d);
      return d;
    },

    async commit(key, chainId) {
      await unmountRoot(key);
      try {
        await call('Commit', { name: chainId, key, labels: { [SNAPSHOT_REF]: chainId } }, `snapshot ${chainId}`);
      } catch (e) {
        if (!isKilnError(e, 'ALREADY_EXISTS')) throw e;
        // Committed meanwhile by another build: theirs is the same layer; hold it, drop ours.
        await removeSnapshot(key);
        await snapshotExists(ctx, chainId);
      }
      held.add(chainId);
      await records.release(key);
      return chainId;
    },

    async remove(key) {
      await unmountRoot(key);
      await removeSnapshot(key);
      await records.release(key);
    },
  };
}
