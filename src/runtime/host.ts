/** What this machine's cgroups support, so a spec only asks for what runc can apply. */
import { access, readFile } from 'node:fs/promises';
import type { HostFeatures } from './options.js';

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

/** The hard `Max open files` of this process: a container cannot get more without CAP_SYS_RESOURCE here. */
async function maxNoFile(): Promise<number> {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(await readFile('/proc/self/limits', 'utf8'));
  return m === null || m[1] === 'unlimited' ? 1048576 : Number(m[1]);
}

export async function detectHost(cgroupRoot = '/sys/fs/cgroup'): Promise<HostFeatures> {
  const nofile = await maxNoFile();
  const v2 = await exists(`${cgroupRoot}/cgroup.controllers`);
  if (v2) {
    return {
      swapAccounting: await exists(`${cgroupRoot}/memory.swap.max`).then((x) => x || exists(`${cgroupRoot}/user.slice/memory.swap.max`)),
      cpuQuota: true,
      pids: true,
      maxNoFile: nofile,
    };
  }
  return {
    swapAccounting: await exists(`${cgroupRoot}/memory/memory.memsw.limit_in_bytes`),
    cpuQuota: await exists(`${cgroupRoot}/cpu/cpu.cfs_quota_us`),
    pids: await exists(`${cgroupRoot}/pids`),
    maxNoFile: nofile,
  };
}
