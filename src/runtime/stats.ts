/**
 * `kiln stats`: a container's resource use as docker computes it, from two
 * samples of `runc events --stats` (its cgroup), /proc/stat (the host's CPU
 * time) and /proc/PID/net/dev (its network namespace). Pure functions; the
 * engine takes the samples.
 */
import { totalmem } from 'node:os';

/** One reading of one container. */
export interface StatsSample {
  /** The container's CPU time, ns. */
  cpuNs: number;
  /** The host's CPU time (all CPUs, every state), ns. */
  systemNs: number;
  onlineCpus: number;
  memUsage: number;
  memLimit: number;
  pids: number;
  blockRead: number;
  blockWrite: number;
  netRx: number;
  netTx: number;
}

/** What `kiln stats` shows of one container (bytes and percentages; the CLI formats them). */
export interface ContainerStats {
  id: string;
  name: string;
  cpuPercent: number;
  memUsage: number;
  memLimit: number;
  memPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** Clock ticks per second for /proc/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface RuncStats {
  cpu?: { usage?: { total?: number; percpu?: number[] } };
  memory?: { usage?: { usage?: number; limit?: number }; raw?: Record<string, number> };
  pids?: { current?: number };
  blkio?: { ioServiceBytesRecursive?: { op: string; value: number }[] };
}

/** The fields of `runc events --stats` kiln uses (memory as docker counts it: without inactive file cache). */
export function fromRunc(json: string): Pick<StatsSample, 'cpuNs' | 'onlineCpus' | 'memUsage' | 'memLimit' | 'pids' | 'blockRead' | 'blockWrite'> {
  const d = (JSON.parse(json) as { data?: RuncStats }).data ?? {};
  const raw = d.memory?.raw ?? {};
  const inactiveFile = raw.total_inactive_file ?? raw.inactive_file ?? 0;
  const usage = d.memory?.usage?.usage ?? 0;
  // An unlimited cgroup reports about 2^63: docker shows the host's memory then.
  const limit = Math.min(d.memory?.usage?.limit ?? Infinity, totalmem());
  const io = d.blkio?.ioServiceBytesRecursive ?? [];
  const sum = (op: string) => io.filter((e) => e.op.toLowerCase() === op).reduce((a, e) => a + e.value, 0);
  return {
    cpuNs: d.cpu?.usage?.total ?? 0,
    onlineCpus: d.cpu?.usage?.percpu?.length || 1,
    memUsage: Math.max(0, usage - inactiveFile),
    memLimit: limit,
    pids: d.pids?.current ?? 0,
    blockRead: sum('read'),
    blockWrite: sum('write'),
  };
}

/** The host's CPU time from /proc/stat's first line, in ns. */
export function systemNs(procStat: string): number {
  const fields = (procStat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 8).map(Number);
  return (fields.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) * 1e9) / USER_HZ;
}

/** Bytes received and sent on every interface but loopback, from /proc/PID/net/dev. */
export function netBytes(procNetDev: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of procNetDev.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** docker's CPU %: the container's share of the host's CPU time between two samples, times the CPUs. */
export function cpuPercent(before: StatsSample, after: StatsSample): number {
  const cpu = after.cpuNs - before.cpuNs;
  const system = after.systemNs - before.systemNs;
  return system > 0 && cpu > 0 ? (cpu / system) * after.onlineCpus * 100 : 0;
}

export function toStats(id: string, name: string, before: StatsSample | undefined, after: StatsSample | undefined): ContainerStats {
  if (!after) return { id, name, cpuPercent: 0, memUsage: 0, memLimit: 0, memPercent: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0 };
  return {
    id,
    name,
    cpuPercent: before ? cpuPercent(before, after) : 0,
    memUsage: after.memUsage,
    memLimit: after.memLimit,
    memPercent: after.memLimit > 0 ? (after.memUsage / after.memLimit) * 100 : 0,
    netRx: after.netRx,
    netTx: after.netTx,
    blockRead: after.blockRead,
    blockWrite: after.blockWrite,
    pids: after.pids,
  };
}
