/**
 * containerd's container and task events as docker's container events, for
 * kiln's containers only (those with a kiln record; names from the record,
 * remembered so a `destroy` still has one):
 *
 *   /containers/create → create    /tasks/start → start
 *   /tasks/exit (the task's own process) → die (exitCode)    /containers/delete → destroy
 *
 * `stop` and `kill` are requests to the shim, not events containerd
 * publishes: they show as the `die` they cause.
 */
import type { KilnEvent } from '../../events.js';
import type { ContainerdConnection, Message } from '../grpc.js';
import { CtrRecords } from './records.js';

const ACTIONS: Record<string, string> = { '/containers/create': 'create', '/tasks/start': 'start', '/tasks/exit': 'die', '/containers/delete': 'destroy' };

export const CONTAINER_TOPICS = '^/(containers|tasks)/';

/** Maps one decoded event; `known` remembers kiln's containers (id → name, image). */
export function containerEvents(conn: ContainerdConnection, snapshotter: string) {
  const records = new CtrRecords(conn, snapshotter);
  const known = new Map<string, { name: string; image: string }>();
  const loaded = records.list().then((all) => {
    for (const r of all) known.set(r.id, { name: r.name, image: r.image });
  });
  return async (topic: string, event: Message | undefined, time: string): Promise<KilnEvent | undefined> => {
    const action = ACTIONS[topic];
    if (!action || !event) return undefined;
    await loaded.catch(() => undefined);
    const id = (event.container_id ?? event.id) as string | undefined;
    if (!id) return undefined;
    // An exec's exit has its own process id.
    if (topic === '/tasks/exit' && event.id && event.id !== event.container_id) return undefined;
    let who = known.get(id);
    if (!who && action !== 'destroy') {
      const rec = await records.get(id).catch(() => undefined);
      if (rec) known.set(id, (who = { name: rec.name, image: rec.image }));
    }
    if (!who) return undefined;
    return {
      time,
      type: 'container',
      action,
      id,
      attributes: { name: who.name, image: who.image, ...(action === 'die' ? { exitCode: String(event.exit_status ?? 0) } : {}) },
    };
  };
}
