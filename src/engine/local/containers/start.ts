/**
 * Starting a local container: a fresh writable root from the image's
 * unpacked layers, its network, its mounts, the runtime bundle — then the
 * process, in the foreground (attached) or under the detached monitor.
 */
import { symlink } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chainIds } from '../../../oci/config.js';
import {
  prepareContainer,
  Runc,
  runcRoot,
  runForeground,
  startMonitor,
} from '../../../runtime/index.js';
import type { Attach } from '../../containers.js';
import { runOptions as specRunOptions } from '../../containers/run-options.js';
import type { ImageDetail } from '../../engine.js';
import { appendEvent } from '../events.js';
import type { Readable } from 'node:stream';
import { openStore } from '../../../content/layout.js';
import { VolumeStore } from '../../volumes/store.js';
import { logFile, rootfsKey, type ContainerContext } from './context.js';
import { parseMounts, resolveMounts } from '../../volumes/mounts.js';
import { networkUp } from './network.js';
import type { ContainerRecord } from './store.js';
import { afterExit, destroy, releaseRuntime } from './teardown.js';

const MONITOR_ENTRY = fileURLToPath(new URL('./monitor-entry.js', import.meta.url));

const runOptions = (rec: ContainerRecord) => specRunOptions(rec.spec);

/** Mount points to use: the ones resolved at the last start (same anonymous volumes), or the flags'. */
function mountPoints(rec: ContainerRecord) {
  return rec.mounts.length > 0 ? rec.mounts : parseMounts(rec.spec);
}

/** Builds everything a run needs; on failure, takes back what was made. Returns the updated record. */
export async function materialize(ctx: ContainerContext, image: ImageDetail, rec: ContainerRecord): Promise<ContainerRecord> {
  const chain = chainIds(image.config.rootfs.diff_ids);
  // The store is opened only when a layer is not unpacked yet.
  let store: ReturnType<typeof openStore> | undefined;
  const blob = async (digest: string): Promise<Readable> => (await (store ??= openStore(ctx.root, { create: false }))).content.reader(digest);
  const layers = image.manifest.layers.map((l, i) => ({ chainId: chain[i]!, open: () => blob(l.digest) }));
  let chainDir: string;
  try {
    chainDir = await ctx.snapshots.unpack(layers);
  } finally {
    if (store) await (await store).close();
  }
  let updated = rec;
  try {
    // The root (overlay mount, volumes) and the network (CNI plugins) are independent: made side by side,
    // both settled before a failure is thrown, so the cleanup below never races one still being made.
    const filesystem = async () => {
      const { rootfs } = await ctx.snapshots.prepare(rootfsKey(rec.id), chainDir);
      return { rootfs, ...(await resolveMounts(mountPoints(rec), Object.keys(image.config.config?.Volumes ?? {}), rootfs, new VolumeStore(ctx.root))) };
    };
    const [fs, network] = await Promise.allSettled([filesystem(), networkUp(ctx, rec)]);
    if (fs.status === 'rejected') throw fs.reason;
    if (network.status === 'rejected') throw network.reason;
    const { rootfs, mounts, points } = fs.value;
    const net = network.value;
    updated = { ...rec, mounts: points, ports: net.ports, ...(net.ip ? { ip: net.ip } : {}) };
    const { paths } = await prepareContainer(ctx.stateDir, rec.id, {
      rootfs,
      image: image.config,
      options: { ...runOptions(rec), network: net.mode, mounts },
      etc: { ...(rec.spec.dns ? { dns: rec.spec.dns } : {}), ...(rec.spec.addHost ? { extraHosts: rec.spec.addHost } : {}), ...(net.ip ? { ip: net.ip } : {}) },
    });
    await symlink(logFile(ctx, rec.id), paths.log);
    return updated;
  } catch (e) {
    await releaseRuntime(ctx, updated).catch(() => undefined);
    throw e;
  }
}

/**
 * Starts a container that is not running. Attached: resolves to the exit code
 * once it ends (a start failure rejects with Docker's 125/126/127 after the
 * die event). Detached: resolves once the process runs.
 */
export async function startRecord(
  ctx: ContainerContext,
  image: ImageDetail,
  rec: ContainerRecord,
  attach?: Attach,
): Promise<number | undefined> {
  let current = rec.startedAt !== undefined ? await releaseRuntime(ctx, rec) : rec;
  try {
    current = await materialize(ctx, image, current);
  } catch (e) {
    // Never started: a --rm container goes away with its failure, as in Docker.
    if (rec.spec.autoRemove) await destroy(ctx, current).catch(() => undefined);
    throw e;
  }
  current = { ...current, startedAt: new Date().toISOString(), restartCount: rec.startedAt !== undefined ? rec.restartCount + 1 : rec.restartCount };
  await ctx.store.save(current);
  await appendEvent(ctx.root, { type: 'container', action: 'start', id: rec.id, attributes: { name: rec.name, image: rec.image } });
  if (attach === undefined) {
    // A process that cannot start rejects here; the monitor has run afterExit (die, --rm) already.
    await startMonitor(ctx.stateDir, rec.id, { main: { script: MONITOR_ENTRY, args: [ctx.root, rec.id] } });
    return undefined;
  }
  // Signals to the CLI go to the container (Docker's sig-proxy); the CLI stays to record the exit and clean up.
  const runc = new Runc({ root: runcRoot(ctx.stateDir) });
  const forward = (sig: NodeJS.Signals) => void runc.kill(rec.id, sig).catch(() => undefined);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const sig of signals) process.on(sig, forward);
  try {
    return await runForeground(ctx.stateDir, rec.id, attach);
  } finally {
    for (const sig of signals) process.off(sig, forward);
    await afterExit(ctx, rec.id);
  }
}
