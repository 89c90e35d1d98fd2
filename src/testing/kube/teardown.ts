/**
 * Stops a test cluster and removes all of it, in the reverse order of start:
 * the kubelet and controllers, every pod process (by the cluster's cgroups),
 * containerd and its shims, the API server and etcd, whatever else runs in
 * the node's network namespace; then mounts under the directory, the cgroups,
 * the namespace, CNI's cached results, the kubelet's container-log symlinks
 * and sysctls (hostwide.ts), the directory.
 * `leftovers()` lists anything still there (tests assert it is empty).
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cgroupMounts, processesInCgroup, removeCgroupRoot } from './cgroups.js';
import { deleteNetns, netnsInode, netnsPath, processesInNetns } from './netns.js';
import { endProcess } from './processes.js';
import type { ClusterState } from './state.js';
import { containerLogLinks, releaseHost } from './hostwide.js';
import { mountsUnder } from '../../util/mountinfo.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CNI_RESULTS = '/var/lib/cni/results';

export async function teardown(s: ClusterState, opts: { keepDir?: boolean } = {}): Promise<void> {
  const traces = await hostTraces(s);
  // A throwaway cluster: one second for SIGTERM (the API server would wait 5 s and more for open requests).
  const end = (name: string) => (s.pids[name] ? endProcess(s.pids[name]!, s.dir, 1_000) : Promise.resolve());
  await Promise.all([end('kubelet'), end('kube-controller-manager'), end('kube-scheduler')]);
  await removeCgroupRoot(s.cgroupRoot);
  await end('containerd');
  await Promise.all([end('kube-apiserver'), end('etcd')]);
  const inode = await netnsInode(s.netns);
  if (inode !== undefined) await killAll(() => processesInNetns(inode), `network namespace ${s.netns}`);
  for (const m of await mountsUnder(s.dir)) await run('umount', ['-l', m]).catch(() => undefined);
  await removeCgroupRoot(s.cgroupRoot);
  await deleteNetns(s.netns);
  for (const f of await cniResults(traces.cniSandboxIds, s.network)) await rm(path.join(CNI_RESULTS, f), { force: true });
  for (const socket of traces.shimSockets) await rm(socket, { force: true });
  await releaseHost(s.id, s.dir);
  if (!opts.keepDir) await rm(s.dir, { recursive: true, force: true });
}

async function killAll(list: () => Promise<number[]>, where: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const pids = (await list()).filter((p) => p !== process.pid);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} in ${where} did not die`);
    await sleep(50);
  }
}

/**
 * What the cluster's pods leave outside its directory when they are killed
 * (no CNI DEL, no shim cleanup): CNI's cached results on its network
 * (/var/lib/cni/results/NETWORK-ID-eth0, and containerd's cni-loopback-ID-lo),
 * and the shims' sockets (/run/containerd/s/HASH, named in each task's
 * `address` file). Read while the cluster still exists.
 */
export interface HostTraces {
  cniSandboxIds: string[];
  shimSockets: string[];
}

export async function hostTraces(s: ClusterState): Promise<HostTraces> {
  const names = await readdir(CNI_RESULTS).catch(() => [] as string[]);
  const cniSandboxIds = names.filter((f) => f.startsWith(`${s.network}-`)).map((f) => f.slice(s.network.length + 1).split('-')[0]!);
  const shimSockets: string[] = [];
  const tasks = path.join(s.dir, 'containerd', 'state', 'io.containerd.runtime.v2.task');
  for (const ns of await readdir(tasks).catch(() => [] as string[])) {
    for (const id of await readdir(path.join(tasks, ns)).catch(() => [] as string[])) {
      const address = await readFile(path.join(tasks, ns, id, 'address'), 'utf8').catch(() => '');
      if (address.startsWith('unix://')) shimSockets.push(address.slice('unix://'.length).trim());
    }
  }
  return { cniSandboxIds, shimSockets: [...new Set(shimSockets)] };
}

async function cniResults(sandboxIds: string[], network: string): Promise<string[]> {
  const names = await readdir(CNI_RESULTS).catch(() => [] as string[]);
  return names.filter((f) => f.startsWith(`${network}-`) || sandboxIds.some((id) => f === `cni-loopback-${id}-lo`));
}

/** What is left of the cluster on this host: processes, mounts, the namespace, cgroups, CNI results and shim sockets (traces), symlinks, the directory. */
export async function leftovers(s: ClusterState, traces: HostTraces = { cniSandboxIds: [], shimSockets: [] }): Promise<string[]> {
  const found: string[] = [];
  const inode = await netnsInode(s.netns);
  if (inode !== undefined) {
    found.push(`network namespace ${netnsPath(s.netns)}`);
    for (const pid of await processesInNetns(inode)) found.push(`process ${pid} in ${s.netns}`);
  }
  for (const pid of await processesInCgroup(s.cgroupRoot)) found.push(`process ${pid} in cgroup ${s.cgroupRoot}`);
  for (const pid of await processesMentioning(s.dir)) found.push(`process ${pid} running with ${s.dir} in its command line`);
  for (const m of await mountsUnder(s.dir)) found.push(`mount ${m}`);
  for (const mount of await cgroupMounts()) {
    const d = path.join(mount, s.cgroupRoot);
    if (await stat(d).then(() => true, () => false)) found.push(`cgroup ${d}`);
  }
  for (const f of await cniResults(traces.cniSandboxIds, s.network)) found.push(`CNI result ${f}`);
  for (const socket of traces.shimSockets) if (await stat(socket).then(() => true, () => false)) found.push(`shim socket ${socket}`);
  for (const link of await containerLogLinks(s.dir)) found.push(`symlink ${link}`);
  if (await stat(s.dir).then(() => true, () => false)) found.push(`directory ${s.dir}`);
  return found;
}

/** Live processes (not this one or its parents) whose command line names dir. */
async function processesMentioning(dir: string): Promise<number[]> {
  const ancestors = new Set<number>();
  for (let pid = process.pid; pid > 1; ) {
    ancestors.add(pid);
    const st = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    pid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
  }
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || ancestors.has(Number(entry))) continue;
    const [cmdline, st] = await Promise.all([readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => ''), readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')]);
    if (cmdline.split('\0').some((a) => a.includes(dir)) && st.slice(st.lastIndexOf(')') + 2)[0] !== 'Z') pids.push(Number(entry));
  }
  return pids;
}
