/**
 * What a kubelet changes outside its cluster's directory, and how the harness
 * undoes it. Host-wide, shared by every test cluster on the machine:
 * - six kernel sysctls it sets on start (vm.overcommit_memory, vm.panic_on_oom,
 *   kernel.panic, kernel.panic_on_oops, kernel.keys.root_maxkeys,
 *   kernel.keys.root_maxbytes), not per network namespace;
 * - fixed paths upstream, whatever --root-dir says: /var/log/containers (one
 *   symlink per container into its pod-log directory) and
 *   /var/lib/kubelet/device-plugins/kubelet.sock; and containerd's CNI
 *   library caches results in /var/lib/cni/results (teardown.ts removes the
 *   cluster's own files there).
 * The first cluster to start records the host's state in
 * /run/kiln-test-kube/host.json; each cluster registers itself there; each
 * removes its own symlinks, and the last one to stop restores the sysctls,
 * removes the device-plugin socket and the directories that were not there
 * before (when empty). A registration whose cluster directory is gone (a
 * killed test) does not count.
 */
import { mkdir, readFile, readdir, readlink, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];
export const CONTAINER_LOG_LINKS = '/var/log/containers';
/** Directories a kubelet or containerd's CNI makes outside the cluster's own, deepest first. */
export const HOST_DIRS = [CONTAINER_LOG_LINKS, '/var/lib/kubelet/device-plugins', '/var/lib/kubelet', '/var/lib/cni/results', '/var/lib/cni'];
const DEVICE_PLUGIN_SOCKET = '/var/lib/kubelet/device-plugins/kubelet.sock';
const STATE = '/run/kiln-test-kube';
const saved = path.join(STATE, 'host.json');
const users = path.join(STATE, 'clusters');

export interface HostState {
  sysctls: Record<string, string>;
  /** Whether each of HOST_DIRS existed before the first cluster started. */
  existed: Record<string, boolean>;
}

export async function readSysctls(): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of KUBELET_SYSCTLS) values[name] = (await readFile(`/proc/sys/${name}`, 'utf8')).trim();
  return values;
}

/** Records the host's state (unless another live cluster already did) and registers the cluster in dir. */
export async function holdHost(id: string, dir: string): Promise<void> {
  await mkdir(users, { recursive: true });
  if ((await liveUsers()).length === 0) {
    const existed: Record<string, boolean> = {};
    for (const d of HOST_DIRS) existed[d] = await exists(d);
    const state: HostState = { sysctls: await readSysctls(), existed };
    await writeFile(saved, JSON.stringify(state) + '\n');
  }
  await writeFile(path.join(users, id), dir);
}

/** Removes the cluster's container-log symlinks and unregisters it; the last cluster restores the recorded state. */
export async function releaseHost(id: string, dir: string): Promise<void> {
  for (const link of await containerLogLinks(dir)) await rm(link, { force: true });
  await rm(path.join(users, id), { force: true });
  if ((await liveUsers()).length > 0) return;
  let state: HostState;
  try {
    state = JSON.parse(await readFile(saved, 'utf8')) as HostState;
  } catch {
    return;
  }
  for (const [name, value] of Object.entries(state.sysctls)) {
    if (KUBELET_SYSCTLS.includes(name)) await writeFile(`/proc/sys/${name}`, value);
  }
  await rm(DEVICE_PLUGIN_SOCKET, { force: true });
  for (const d of HOST_DIRS) if (state.existed?.[d] === false) await rmdir(d).catch(() => undefined);
  await rm(saved, { force: true });
}

/** Symlinks in /var/log/containers that point into dir. */
export async function containerLogLinks(dir: string): Promise<string[]> {
  const links: string[] = [];
  for (const name of await readdir(CONTAINER_LOG_LINKS).catch(() => [] as string[])) {
    const link = path.join(CONTAINER_LOG_LINKS, name);
    if ((await readlink(link).catch(() => '')).startsWith(dir + '/')) links.push(link);
  }
  return links;
}

/** The host's state as the first live cluster recorded it, if any cluster is live. */
export async function recordedHost(): Promise<HostState | undefined> {
  return readFile(saved, 'utf8').then((t) => JSON.parse(t) as HostState, () => undefined);
}

/** The ids of the clusters registered and still there. */
export const liveClusters = (): Promise<string[]> => liveUsers();

async function liveUsers(): Promise<string[]> {
  const live: string[] = [];
  for (const id of await readdir(users).catch(() => [] as string[])) {
    const dir = await readFile(path.join(users, id), 'utf8').catch(() => '');
    if (dir && (await exists(dir))) live.push(id);
    else await rm(path.join(users, id), { force: true });
  }
  return live;
}

const exists = (p: string) => stat(p).then(() => true, () => false);
