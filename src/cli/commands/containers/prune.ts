/** What `system prune` removes besides blobs: stopped containers (volumes: ContainerEngine.pruneVolumes). */
import type { ContainerEngine } from '../../../engine/containers.js';

/** Removes every container that is not running; returns their ids. */
export async function pruneContainers(c: ContainerEngine): Promise<string[]> {
  const stopped = (await c.listContainers({ all: true })).filter((s) => s.state !== 'running');
  for (const s of stopped) await c.removeContainer(s.id);
  return stopped.map((s) => s.id);
}
