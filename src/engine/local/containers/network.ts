/**
 * A container's network at start and its release at exit: `host` and `none`
 * need nothing; `bridge` gets a network namespace wired by CNI (src/runtime/cni.ts).
 */
import { bridgeDown, bridgeUp, type Attached } from '../../../runtime/cni.js';
import type { ContainerContext } from './context.js';
import type { ContainerRecord } from './store.js';

export type { Attached } from '../../../runtime/cni.js';

const cniContainer = (ctx: ContainerContext, rec: ContainerRecord) => ({ id: rec.id, root: ctx.root, dir: ctx.store.containerDir(rec.id), ...(rec.spec.publish ? { publish: rec.spec.publish } : {}) });

export async function networkUp(ctx: ContainerContext, rec: ContainerRecord): Promise<Attached> {
  const net = rec.spec.network ?? 'bridge';
  if (net === 'host') return { mode: 'host', ports: [] };
  if (net === 'none') return { mode: 'none', ports: [] };
  return bridgeUp(cniContainer(ctx, rec));
}

/** Releases what networkUp took; safe to call twice or when nothing was taken. */
export async function networkDown(ctx: ContainerContext, rec: ContainerRecord): Promise<void> {
  if ((rec.spec.network ?? 'bridge') === 'bridge') await bridgeDown(cniContainer(ctx, rec), rec.ports);
}
