/**
 * A container's directory under the state dir: prepare it (spec, /etc files,
 * config.json), list containers with their status, remove them.
 */
import { lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { alreadyExists, failedPrecondition, isErrno, isKilnError } from '../errors.js';
import type { ContainerConfig, ImageConfig } from '../oci/types.js';
import { writeEtcFiles, type EtcOptions } from './etc.js';
import { readExitState, waitExit, type ExitState } from './exit-state.js';
import { detectHost } from './host.js';
import type { RunOptions } from './options.js';
import { containerPaths, runcRoot, type ContainerPaths } from './paths.js';
import { Runc, type RuncState } from './runc.js';
import type { RuntimeSpec } from './runtime-spec.js';
import { buildSpec } from './spec.js';
import { readUserDb } from './user.js';

export interface PrepareInput {
  rootfs: string;
  image: ImageConfig | ContainerConfig;
  options: RunOptions;
  /** Extra /etc/hosts and resolv.conf settings (`--add-host`, `--dns`, the CNI address). */
  etc?: Omit<EtcOptions, 'hostname' | 'network'>;
}

/** Writes `config.json` into a new container directory; fails if the id is taken. */
export async function createContainer(stateDir: string, id: string, spec: RuntimeSpec): Promise<ContainerPaths> {
  const paths = containerPaths(stateDir, id);
  await mkdir(join(stateDir, 'containers'), { recursive: true });
  try {
    await mkdir(paths.bundle);
  } catch (e) {
    if (isErrno(e, 'EEXIST')) throw alreadyExists(`container ${id}: already exists (${paths.bundle})`, { hint: 'remove it first or pick another name' });
    throw e;
  }
  await writeFile(paths.config, JSON.stringify(spec, null, 2));
  return paths;
}

/** Builds the spec for a rootfs and image, writes /etc/hosts, hostname, resolv.conf and config.json. */
export async function prepareContainer(stateDir: string, id: string, input: PrepareInput): Promise<{ paths: ContainerPaths; spec: RuntimeSpec }> {
  const [userDb, host] = await Promise.all([readUserDb(input.rootfs), detectHost()]);
  // Build once without the /etc mounts to validate options before anything is written.
  const draft = buildSpec({ id, rootfs: input.rootfs, image: input.image, userDb, host }, input.options);
  const paths = await createContainer(stateDir, id, draft);
  const hostname = draft.hostname ?? osHostname();
  const etc = await writeEtcFiles(paths.bundle, { ...input.etc, hostname, network: input.options.network });
  const spec = buildSpec(
    { id, rootfs: input.rootfs, image: input.image, userDb, host },
    // The /etc files go last, so a volume at /etc does not hide them (Docker's order).
    { ...input.options, mounts: [...(input.options.mounts ?? []), ...etc] },
  );
  await writeFile(paths.config, JSON.stringify(spec, null, 2));
  return { paths, spec };
}

export interface ContainerStatus {
  id: string;
  status: 'created' | 'running' | 'paused' | 'exited';
  pid?: number;
  exit?: ExitState;
}

async function runcStateOf(runc: Runc, id: string): Promise<RuncState | undefined> {
  // runc keeps a container's state in <root>/<id>: without it there is no container, and no runc needs forking to say so.
  if ((await lstat(join(runc.root, id)).catch((e: unknown) => (isErrno(e, 'ENOENT') ? undefined : true))) === undefined) return undefined;
  try {
    return await runc.state(id);
  } catch (e) {
    if (isKilnError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

export async function containerStatus(stateDir: string, id: string): Promise<ContainerStatus> {
  const exit = await readExitState(stateDir, id);
  if (exit !== undefined) return { id, status: 'exited', exit };
  const st = await runcStateOf(new Runc({ root: runcRoot(stateDir) }), id);
  if (st === undefined) return { id, status: 'created' };
  const status = st.status === 'paused' ? 'paused' : st.status === 'stopped' ? 'exited' : 'running';
  return { id, status, pid: st.pid };
}

export async function listContainers(stateDir: string): Promise<ContainerStatus[]> {
  let ids: string[];
  try {
    ids = await readdir(join(stateDir, 'containers'));
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return [];
    throw e;
  }
  return Promise.all(ids.sort().map((id) => containerStatus(stateDir, id)));
}

/** Removes the container's directory; a running one needs `force` (it is killed first). */
export async function removeContainer(stateDir: string, id: string, opts: { force?: boolean } = {}): Promise<void> {
  const paths = containerPaths(stateDir, id);
  const runc = new Runc({ root: paths.runcRoot });
  const st = await runcStateOf(runc, id);
  if (st !== undefined && st.status !== 'stopped') {
    if (!opts.force) {
      throw failedPrecondition(`container ${id} is ${st.status}: cannot remove it`, { hint: 'stop it first or use --force' });
    }
    await runc.kill(id, 'SIGKILL', { all: true });
    // Let the monitor record the exit before its directory goes away.
    await waitExit(stateDir, id, { timeoutMs: 5000 });
  }
  if ((await runcStateOf(runc, id)) !== undefined) await runc.delete(id, { force: true });
  await rm(paths.bundle, { recursive: true, force: true });
}
