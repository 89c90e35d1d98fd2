/**
 * A container's root filesystem and runtime spec on containerd: the image's
 * layers as committed snapshots (unpacked from the content store when
 * missing), the container's writable root as the active snapshot named by
 * its id (`Prepare(id, parent = top chain ID)`, made fresh on every start),
 * and the OCI spec built by src/runtime/spec.ts from the image config and
 * the docker flags, with the root at the bundle's `rootfs` (where the shim
 * mounts what the snapshot's mounts describe) and the /etc files kiln writes
 * in the container's directory bind-mounted.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { isKilnError } from '../../../errors.js';
import { chainIds } from '../../../oci/config.js';
import { buildSpec, detectHost, readUserDb, writeEtcFiles, type Mount, type NetworkMode, type RunOptions, type RuntimeSpec } from '../../../runtime/index.js';
import type { MountPoint } from '../../containers.js';
import type { ImageDetail } from '../../engine.js';
import { resolveMounts } from '../../volumes/mounts.js';
import type { VolumeStore } from '../../volumes/store.js';
import type { Message } from '../grpc.js';
import { mountAll, toMounts, unmount } from '../mount.js';
import { unpackLayer, type UnpackContext } from '../unpack.js';

/** The image's top chain ID, its snapshots made if containerd has not unpacked it. */
export async function ensureChain(ctx: UnpackContext, image: ImageDetail): Promise<string> {
  const diffIds = image.config.rootfs.diff_ids;
  const chain = chainIds(diffIds);
  for (const [i, layer] of image.manifest.layers.entries()) {
    await unpackLayer(ctx, layer, diffIds[i]!, chain[i]!, i > 0 ? chain[i - 1] : undefined);
  }
  return chain.at(-1) ?? '';
}

type Snapshots = Pick<UnpackContext, 'conn' | 'snapshotter'>;

const call = (ctx: Snapshots, method: string, req: Message) => ctx.conn.unary('snapshots', method, { snapshotter: ctx.snapshotter, ...req }, `snapshot ${String(req.key).slice(0, 12)}`);

export async function removeRoot(ctx: Snapshots, id: string): Promise<void> {
  try {
    await call(ctx, 'Remove', { key: id });
  } catch (e) {
    if (!isKilnError(e, 'NOT_FOUND')) throw e;
  }
}

/** A fresh writable root for the container (the last one, if any, removed); resolves to its mounts. */
export async function freshRoot(ctx: Snapshots, id: string, parent: string): Promise<Message[]> {
  await removeRoot(ctx, id);
  const res = await call(ctx, 'Prepare', { key: id, parent, labels: {} });
  return res.mounts as Message[];
}

export async function rootMounts(ctx: Snapshots, id: string): Promise<Message[]> {
  return (await call(ctx, 'Mounts', { key: id })).mounts as Message[];
}

/** The /etc files (hostname, hosts, resolv.conf) in `dir`/etc; the mounts that bind them. */
export async function etcMounts(dir: string, opts: { hostname: string; network: NetworkMode; ip?: string; dns?: string[]; addHost?: string[] }) {
  const etc = path.join(dir, 'etc');
  await mkdir(etc, { recursive: true });
  return writeEtcFiles(etc, {
    hostname: opts.hostname,
    network: opts.network,
    ...(opts.ip ? { ip: opts.ip } : {}),
    ...(opts.dns ? { dns: opts.dns } : {}),
    ...(opts.addHost ? { extraHosts: opts.addHost } : {}),
  });
}

/**
 * The runtime spec of container `id`, its root mounted for a moment at
 * `dir`/probe to read its user database (`-u name`, HOME) and to seed the
 * named and anonymous volumes it mounts (../../volumes/mounts.ts: created on
 * first use with the image's content at their path); resolves to the spec
 * and the mount points as resolved.
 */
export async function runtimeSpec(
  mounts: Message[],
  input: { id: string; dir: string; image: ImageDetail; options: RunOptions; dns?: string[]; addHost?: string[]; volumes: { points: MountPoint[]; store: VolumeStore } },
): Promise<{ spec: RuntimeSpec; points: MountPoint[] }> {
  const probe = path.join(input.dir, 'probe');
  await mkdir(probe, { recursive: true });
  let userDb;
  let volumes: { mounts: Mount[]; points: MountPoint[] };
  try {
    await mountAll(toMounts(mounts), probe);
    userDb = await readUserDb(probe);
    volumes = await resolveMounts(input.volumes.points, Object.keys(input.image.config.config?.Volumes ?? {}), probe, input.volumes.store);
  } finally {
    await unmount(probe);
    await rmdir(probe).catch(() => undefined);
  }
  const host = await detectHost();
  const base = { id: input.id, rootfs: 'rootfs', image: input.image.config, userDb, host };
  // Built once to check the flags before anything is written, then with the /etc mounts last (Docker's order).
  const draft = buildSpec(base, input.options);
  const etc = await etcMounts(input.dir, {
    hostname: draft.hostname ?? osHostname(),
    network: input.options.network,
    ...(input.dns ? { dns: input.dns } : {}),
    ...(input.addHost ? { addHost: input.addHost } : {}),
  });
  return { spec: buildSpec(base, { ...input.options, mounts: [...(input.options.mounts ?? []), ...volumes.mounts, ...etc] }), points: volumes.points };
}
