/**
 * A kiln container's life on containerd: create (record, writable root,
 * spec), start (fresh root, network, task with kiln's log driver), the end
 * of a run (task deleted, exit kept in the record, network released) and
 * removal (task, record, snapshot, directory — nothing left for `ctr` to list).
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { isKilnError } from '../../../errors.js';
import { formatReference, parseNormalizedNamed } from '../../../name/reference.js';
import { bridgeDown, bridgeUp, netnsPath, parsePublish } from '../../../runtime/cni.js';
import { containerArgs } from '../../../runtime/command.js';
import type { NetworkMode } from '../../../runtime/index.js';
import { readCriLog, writeLogs } from '../../../runtime/logs.js';
import { startError } from '../../../runtime/runc-errors.js';
import type { Attach, ContainerSpec } from '../../containers.js';
import { runOptions } from '../../containers/run-options.js';
import type { ImageDetail } from '../../engine.js';
import type { ContainerdConnection } from '../grpc.js';
import { newLeaseId, withLease } from '../lease.js';
import { leasedContext, type UnpackContext } from '../unpack.js';
import { removeAnonymousVolumes } from '../../volumes/calls.js';
import { parseMounts } from '../../volumes/mounts.js';
import { execIo, loggerUri } from './io.js';
import { closeStdinOn, followSize } from './pty.js';
import { monitored } from './restart.js';
import { startReaper } from './reaper-start.js';
import { newId, type CtrRecord, type CtrRecords } from './records.js';
import { ensureChain, etcMounts, freshRoot, removeRoot, rootMounts, runtimeSpec } from './rootfs.js';
import { deleteTask, killTask, waitTask } from './tasks.js';
import { volumeStore } from './volumes.js';

export interface CtrContext {
  conn: ContainerdConnection;
  unpack: UnpackContext;
  records: CtrRecords;
  /** kiln's --root: the bridge settings and IPAM leases, and `containerd/NAMESPACE/ID/` per container. */
  workRoot: string;
}

export const logFile = (rec: CtrRecord): string => path.join(rec.dir, 'container.log');

function networkMode(spec: ContainerSpec, id: string): NetworkMode {
  const net = spec.network ?? 'bridge';
  return net === 'bridge' ? { netnsPath: netnsPath(id) } : net;
}

export async function createCtr(c: CtrContext, spec: ContainerSpec, image: ImageDetail): Promise<string> {
  const args = containerArgs(image.config.config ?? {}, { ...(spec.cmd?.length ? { cmd: spec.cmd } : {}), ...(spec.entrypoint ? { entrypoint: spec.entrypoint } : {}) });
  parsePublish(spec.publish);
  const points = parseMounts(spec);
  let imageName = spec.image;
  try {
    imageName = formatReference(parseNormalizedNamed(spec.image));
  } catch {
    imageName = spec.image; // an image id
  }
  const name = await c.records.claimName(spec.name);
  const id = newId();
  const dir = path.join(c.workRoot, 'containerd', c.conn.namespace, id);
  const lease = newLeaseId();
  const rec: CtrRecord = { id, name, created: new Date().toISOString(), spec, image: imageName, imageId: image.id, args, dir, restartCount: 0, ports: [], mounts: [], chainId: '', creating: { lease, pid: process.pid } };
  try {
    // The record first: from here a killed kiln leaves a dead container that rm and the prunes remove.
    await c.records.create(rec);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Under a lease for the image's content it unpacks; the record references the root it prepares.
    await withLease(c.conn, async (conn) => {
      const unpack = leasedContext(c.unpack, conn);
      rec.chainId = await ensureChain(unpack, image);
      const mounts = await freshRoot(unpack, id, rec.chainId);
      const options = { ...runOptions(spec), network: networkMode(spec, id) };
      const volumes = { points, store: volumeStore(c) };
      const made = await runtimeSpec(mounts, { id, dir, image, options, volumes, ...(spec.dns ? { dns: spec.dns } : {}), ...(spec.addHost ? { addHost: spec.addHost } : {}) });
      rec.mounts = made.points;
      delete rec.creating;
      await c.records.complete(rec, made.spec);
    }, lease);
  } catch (e) {
    await removeAnonymousVolumes(volumeStore(c), rec).catch(() => undefined);
    await c.records.delete(id).catch(() => undefined);
    await removeRoot(c.unpack, id).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return id;
}

const cni = (c: Pick<CtrContext, 'workRoot'>, rec: CtrRecord) => ({ id: rec.id, root: c.workRoot, dir: rec.dir, ...(rec.spec.publish ? { publish: rec.spec.publish } : {}) });

async function networkDown(c: Pick<CtrContext, 'workRoot'>, rec: CtrRecord): Promise<void> {
  if ((rec.spec.network ?? 'bridge') === 'bridge') await bridgeDown(cni(c, rec), rec.ports);
}

/** After the process ended: the task deleted (the log is then complete), the exit kept, the network released. */
export async function endRun(c: CtrContext, rec: CtrRecord): Promise<CtrRecord> {
  const exit = await deleteTask(c.conn, rec.id);
  await networkDown(c, rec);
  const updated: CtrRecord = { ...rec, ...(exit ? { lastExit: exit } : {}), ports: [] };
  if (exit) await c.records.save(updated);
  return updated;
}

/** `rm`: task, network, anonymous volumes (always with --rm or -v), record, writable root, directory. */
export async function destroyCtr(c: Omit<CtrContext, 'unpack'> & { unpack: Pick<UnpackContext, 'conn' | 'snapshotter'> }, rec: CtrRecord, opts: { volumes?: boolean } = {}): Promise<void> {
  // Out of the restart monitor's hands first, so it makes no new task meanwhile.
  if (rec.monitor) {
    const { monitor: _m, ...rest } = rec;
    await c.records.save(rest);
  }
  await deleteTask(c.conn, rec.id);
  await networkDown(c, rec);
  if (opts.volumes || rec.spec.autoRemove || rec.creating) await removeAnonymousVolumes(volumeStore(c), rec);
  // A dead container's lease (its kiln was killed while making it) goes with it.
  if (rec.creating) await c.conn.unary('leases', 'Delete', { id: rec.creating.lease, sync: false }, `lease ${rec.creating.lease}`).catch(() => undefined);
  await c.records.delete(rec.id);
  await removeRoot(c.unpack, rec.id);
  await rm(rec.dir, { recursive: true, force: true });
}

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

/**
 * Starts a container whose task is not running. Attached: follows its log to
 * the streams until it exits and resolves to the exit code; detached:
 * resolves once the task runs.
 */
export async function startCtr(c: CtrContext, current: CtrRecord, attach?: Attach): Promise<number | undefined> {
  try {
    return await run(c, current, attach);
  } catch (e) {
    // Never started: a --rm container goes away with its failure, as in docker.
    if (current.spec.autoRemove) await destroyCtr(c, current).catch(() => undefined);
    throw e;
  }
}

async function run(c: CtrContext, current: CtrRecord, attach?: Attach): Promise<number | undefined> {
  let rec = await endRun(c, current);
  const mounts = rec.startedAt ? await freshRoot(c.unpack, rec.id, rec.chainId) : await rootMounts(c.unpack, rec.id);
  let net: { ports: CtrRecord['ports']; ip?: string } = { ports: [] };
  if ((rec.spec.network ?? 'bridge') === 'bridge') {
    net = await bridgeUp(cni(c, rec));
    const spec = await c.records.runtimeSpec(rec.id);
    await etcMounts(rec.dir, { hostname: (spec.hostname as string | undefined) ?? rec.id.slice(0, 12), network: networkMode(rec.spec, rec.id), ...(net.ip ? { ip: net.ip } : {}), ...(rec.spec.dns ? { dns: rec.spec.dns } : {}), ...(rec.spec.addHost ? { addHost: rec.spec.addHost } : {}) });
  }
  const { ip: _ip, ...rest } = rec;
  const log = logFile(rec);
  const { monitor: _m, ...unmonitored } = rest;
  rec = { ...unmonitored, ...(net.ip ? { ip: net.ip } : {}), ports: net.ports, startedAt: new Date().toISOString(), restartCount: rec.startedAt ? rec.restartCount + 1 : rec.restartCount };
  const offset = await stat(log).then((s) => s.size, () => 0);
  const tty = !!rec.spec.tty;
  // Attached with -i or -t, kiln holds the stdio (and writes the log); otherwise the log driver under the shim does.
  const held = attach && (attach.stdin || tty) ? await execIo(path.join(rec.dir, 'attach'), attach, { tty, log }) : undefined;
  const stdio = held ? { stdin: held.stdin, stdout: held.stdout, stderr: held.stderr } : { stdin: '', stdout: loggerUri(log), stderr: tty ? '' : loggerUri(log) };
  try {
    await c.records.save(rec);
    await c.conn.unary('tasks', 'Create', { container_id: rec.id, rootfs: mounts, ...stdio, terminal: tty }, `task ${rec.name}`);
  } catch (e) {
    await held?.close();
    await networkDown(c, rec).catch(() => undefined);
    throw isKilnError(e) && /exec: "|executable file not found|permission denied/.test(e.message) ? startError(e.message.replace(/: unknown$/, ''), rec.id) : e;
  }
  try {
    await c.conn.unary('tasks', 'Start', { container_id: rec.id }, `task ${rec.name}`);
  } catch (e) {
    await endRun(c, rec).catch(() => undefined);
    await held?.close();
    throw isKilnError(e) ? startError(e.message.replace(/: unknown$/, ''), rec.id) : e;
  }
  if (monitored(rec.spec)) {
    // Started: from now containerd's restart monitor keeps it running (./restart.ts).
    rec = { ...rec, monitor: { logUri: loggerUri(log) } };
    await c.records.save(rec);
  }
  if (!attach) {
    // -d --rm: a detached kiln process waits for the exit and removes the container.
    if (rec.spec.autoRemove) await startReaper({ address: c.conn.address, namespace: c.conn.namespace, snapshotter: c.unpack.snapshotter, workRoot: c.workRoot }, rec);
    return undefined;
  }
  let finished = false;
  const follow = held
    ? held.done.then(() => undefined)
    : writeLogs(readCriLog(log, { follow: true, from: offset, isDone: async () => finished, pollMs: 50 }), { stdout: attach.stdout ?? sink(), stderr: attach.stderr ?? sink() });
  if (held) closeStdinOn(c.conn, rec.id, '', held.stdinEnded);
  const stopSize = held && tty ? followSize(c.conn, rec.id, '', attach.stdout) : () => undefined;
  // Signals to the CLI go to the container (docker's sig-proxy).
  const forward = (sig: NodeJS.Signals) => void killTask(c.conn, rec.id, sig).catch(() => undefined);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const sig of signals) process.on(sig, forward);
  try {
    const exit = await waitTask(c.conn, rec.id);
    // A monitored container keeps its network and task for the monitor's restart.
    if (!rec.monitor) await endRun(c, rec);
    return exit.exitCode;
  } finally {
    stopSize();
    for (const sig of signals) process.off(sig, forward);
    finished = true;
    await follow;
    await held?.close();
    if (rec.spec.autoRemove) await destroyCtr(c, rec);
  }
}
