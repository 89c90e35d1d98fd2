/** What a running test cluster is made of, kept in DIR/cluster.json so any process can stop it. */
import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';

export interface ClusterState {
  id: string;
  dir: string;
  netns: string;
  cgroupRoot: string;
  nodeName: string;
  nodeIP: string;
  /** The CNI network name (CNI keeps results under /var/lib/cni/results/NAME-*). */
  network: string;
  kube: string;
  pids: Record<string, number>;
}

export const stateFile = (dir: string): string => path.join(dir, 'cluster.json');

export async function saveState(s: ClusterState): Promise<void> {
  const tmp = stateFile(s.dir) + '.tmp';
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n');
  await rename(tmp, stateFile(s.dir));
}

export async function loadState(dir: string): Promise<ClusterState> {
  try {
    return JSON.parse(await readFile(stateFile(path.resolve(dir)), 'utf8')) as ClusterState;
  } catch (e) {
    throw new Error(`${stateFile(path.resolve(dir))}: no test cluster there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
