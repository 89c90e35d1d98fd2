/**
 * What a kubelet changes outside its cluster's directory, and how the harness
 * undoes it. Host-wide, shared by every test cluster on the machine:
 * - six kernel sysctls it sets on start (vm.overcommit_memory, vm.panic_on_oom,
 *   kernel.panic, kernel.panic_on_oops, kernel.keys.root_maxkeys,
 *   kernel.keys.root_maxbytes), not per network namespace;
 * - /var/log/containers, which it creates (a fixed path upstream) and fills
 *   with one symlink per container into its pod-log directory.
 * The first cluster to start records the host's state in
 * /run/kiln-test-kube/host.json; each cluster registers itself there; each
 * removes its own symlinks, and the last one to stop restores the sysctls and
 * removes /var/log/containers if it was not there before. A registration
 * whose cluster directory is gone (a killed test) does not count.
 */
import { mkdir, readFile, readdir, readlink, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];
export const CONTAINER_LOG_LINKS = '/var/log/containers';
const STATE = '/run/kiln-test-kube';
const saved = path.join(STATE, 'host.json');
const users = path.join(STATE, 'clusters');

interface HostState {
  sysctls: Record<string, string>;
  containerLogLinks: boolean;
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
    const state: HostState = { sysctls: await readSysctls(), containerLogLinks: await exists(CONTAINER_LOG_LINKS) };
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
  if (!state.containerLogLinks) await rmdir(CONTAINER_LOG_LINKS).catch(() => undefined);
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
