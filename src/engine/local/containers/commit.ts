/**
 * `kiln commit` on the local backend: the running container's overlay upper
 * dir becomes one layer on top of its image (../../containers/commit.ts), the
 * container paused meanwhile unless told not to, as docker does; a commit
 * event is recorded.
 */
import { runcRoot } from '../../../runtime/paths.js';
import { Runc } from '../../../runtime/runc.js';
import { failedPrecondition } from '../../../errors.js';
import type { CommitOptions } from '../../containers.js';
import type { Engine, ImageDetail } from '../../engine.js';
import { commitInput } from '../../containers/commit.js';
import { appendEvent } from '../events.js';
import { containerOverlay } from './changes.js';
import type { ContainerContext } from './context.js';
import type { ContainerRecord } from './store.js';

export async function commitLocal(ctx: ContainerContext, rec: ContainerRecord, image: ImageDetail, images: Engine, opts: CommitOptions): Promise<string> {
  if (!images.commitImage) throw failedPrecondition('this engine cannot store a committed image', { hint: 'use --backend local' });
  const { upper } = await containerOverlay(ctx.root, rec.id, rec.name);
  const runc = new Runc({ root: runcRoot(ctx.stateDir) });
  const pause = opts.pause !== false;
  if (pause) await runc.pause(rec.id);
  let id: string;
  try {
    id = await images.commitImage(commitInput(rec, image, upper, opts));
  } finally {
    if (pause) await runc.resume(rec.id);
  }
  await appendEvent(ctx.root, { type: 'container', action: 'commit', id: rec.id, attributes: { name: rec.name, image: rec.image, ...(opts.reference ? { imageName: opts.reference } : {}) } });
  return id;
}
