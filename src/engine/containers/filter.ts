/** `ps -a` and `ps --filter key=value` (name, status, id, label, ancestor), as Docker matches them. */
import { invalidArgument } from '../../errors.js';
import type { ContainerFilter, ContainerSummary } from '../containers.js';

const STATUSES = ['created', 'running', 'exited', 'unknown', 'paused', 'restarting', 'removing', 'dead'];

export function filterContainers<T extends ContainerSummary>(all: T[], opts: ContainerFilter): T[] {
  const want = new Map<string, string[]>();
  for (const f of opts.filters ?? []) {
    const i = f.indexOf('=');
    const key = i < 0 ? f : f.slice(0, i);
    const value = i < 0 ? '' : f.slice(i + 1);
    if (!['name', 'status', 'id', 'label', 'ancestor', 'exited'].includes(key)) {
      throw invalidArgument(`invalid filter "${f}"`, { hint: 'use name=, status=, id=, label=, ancestor= or exited=' });
    }
    if (key === 'status' && !STATUSES.includes(value)) {
      throw invalidArgument(`invalid filter "status=${value}"`, { hint: `status is one of ${STATUSES.join(', ')}` });
    }
    want.set(key, [...(want.get(key) ?? []), value]);
  }
  // A status filter shows stopped containers without -a, as in Docker.
  const all_ = opts.all || want.has('status') || want.has('exited');
  return all.filter((c) => {
    if (!all_ && c.state !== 'running') return false;
    return [...want].every(([key, values]) =>
      values.some((v) => {
        switch (key) {
          case 'name':
            return c.name.includes(v.replace(/^\//, ''));
          case 'status':
            return c.state === v;
          case 'id':
            return c.id.startsWith(v);
          case 'exited':
            return c.state === 'exited' && String(c.exitCode) === v;
          case 'ancestor':
            return c.image === v || c.image.endsWith(`/${v}`) || c.image.endsWith(`/${v}:latest`) || c.imageId.startsWith(v) || c.imageId.startsWith(`sha256:${v}`);
          default: {
            const j = v.indexOf('=');
            return j < 0 ? v in c.labels : c.labels[v.slice(0, j)] === v.slice(j + 1);
          }
        }
      }),
    );
  });
}
