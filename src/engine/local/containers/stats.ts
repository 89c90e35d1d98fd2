/** The local engine's half of `kiln stats`: two samples of each running container, an interval apart. */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Runc } from '../../../runtime/runc.js';
import { runcRoot } from '../../../runtime/paths.js';
import { fromRunc, netBytes, systemNs, toStats, type ContainerStats, type StatsSample } from '../../../runtime/stats.js';

interface Target {
  id: string;
  name: string;
  /** The init pid while it runs; undefined reads as zeros. */
  pid?: number;
}

/** One reading of a container, or undefined when it stopped meanwhile. */
async function sample(runc: Runc, t: Target, host: number): Promise<StatsSample | undefined> {
  if (t.pid === undefined) return undefined;
  try {
    const [cg, net] = await Promise.all([runc.stats(t.id), readFile(`/proc/${t.pid}/net/dev`, 'utf8')]);
    const { rx, tx } = netBytes(net);
    return { ...fromRunc(cg), systemNs: host, netRx: rx, netTx: tx };
  } catch {
    return undefined; // it exited between the listing and the reading
  }
}

export async function sampleStats(stateDir: string, targets: Target[], intervalMs: number): Promise<ContainerStats[]> {
  const runc = new Runc({ root: runcRoot(stateDir) });
  const round = async () => {
    const host = systemNs(await readFile('/proc/stat', 'utf8'));
    return Promise.all(targets.map((t) => sample(runc, t, host)));
  };
  const first = await round();
  if (targets.some((t) => t.pid !== undefined)) await sleep(intervalMs);
  const second = await round();
  return targets.map((t, i) => toStats(t.id, t.name, first[i], second[i]));
}
