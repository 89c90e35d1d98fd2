/** What this machine's cgroups support, so a spec only asks for what runc can apply. */
import { access } from 'node:fs/promises';
import type { HostFeatures } from './options.js';

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

export async function detectHost(cgroupRoot = '/sys/fs/cgroup'): Promise<HostFeatures> {
  const v2 = await exists(`${cgroupRoot}/cgroup.controllers`);
  if (v2) {
    return {
      swapAccounting: await exists(`${cgroupRoot}/memory.swap.max`).then((x) => x || exists(`${cgroupRoot}/user.slice/memory.swap.max`)),
      cpuQuota: true,
      pids: true,
    };
  }
  return {
    swapAccounting: await exists(`${cgroupRoot}/memory/memory.memsw.limit_in_bytes`),
    cpuQuota: await exists(`${cgroupRoot}/cpu/cpu.cfs_quota_us`),
    pids: await exists(`${cgroupRoot}/pids`),
  };
}
