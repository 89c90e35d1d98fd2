/**
 * The kubelet sets six kernel sysctls on start (vm.overcommit_memory,
 * vm.panic_on_oom, kernel.panic, kernel.panic_on_oops,
 * kernel.keys.root_maxkeys, kernel.keys.root_maxbytes); they are host-wide,
 * not per network namespace. The first cluster to start records the host's
 * values in /run/kiln-test-kube/sysctls.json; each cluster registers itself
 * there, and the last one to stop writes the recorded values back. A
 * registration whose cluster directory is gone (a killed test) does not count.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const KUBELET_SYSCTLS = ['vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops', 'kernel/keys/root_maxkeys', 'kernel/keys/root_maxbytes'];
const STATE = process.env.KILN_TEST_KUBE_RUN ?? '/run/kiln-test-kube';
const saved = path.join(STATE, 'sysctls.json');
const users = path.join(STATE, 'clusters');

export async function readSysctls(): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of KUBELET_SYSCTLS) values[name] = (await readFile(`/proc/sys/${name}`, 'utf8')).trim();
  return values;
}

/** Records the host's values (unless another live cluster already did) and registers the cluster in dir. */
export async function holdSysctls(id: string, dir: string): Promise<void> {
  await mkdir(users, { recursive: true });
  if ((await liveUsers()).length === 0) await writeFile(saved, JSON.stringify(await readSysctls()) + '\n');
  await writeFile(path.join(users, id), dir);
}

/** Unregisters the cluster; the last one restores the recorded values. Returns what it wrote back, if anything. */
export async function releaseSysctls(id: string): Promise<Record<string, string> | undefined> {
  await rm(path.join(users, id), { force: true });
  if ((await liveUsers()).length > 0) return undefined;
  let values: Record<string, string>;
  try {
    values = JSON.parse(await readFile(saved, 'utf8')) as Record<string, string>;
  } catch {
    return undefined;
  }
  for (const [name, value] of Object.entries(values)) {
    if (KUBELET_SYSCTLS.includes(name)) await writeFile(`/proc/sys/${name}`, value);
  }
  await rm(saved, { force: true });
  return values;
}

async function liveUsers(): Promise<string[]> {
  const live: string[] = [];
  for (const id of await readdir(users).catch(() => [] as string[])) {
    const dir = await readFile(path.join(users, id), 'utf8').catch(() => '');
    if (dir && (await readdir(dir).then(() => true, () => false))) live.push(id);
    else await rm(path.join(users, id), { force: true });
  }
  return live;
}
