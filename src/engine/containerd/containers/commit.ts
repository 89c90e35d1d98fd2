/**
 * `kiln commit` on containerd: the container's active snapshot (its writable
 * root, named by its id) is an overlay whose upper dir holds what it changed;
 * that dir becomes one layer on top of its image through the same layer
 * writer as the local backend (../../containers/commit.ts), the task paused
 * meanwhile (Tasks.Pause/Resume) unless told not to.
 */
import { failedPrecondition } from '../../../errors.js';
import type { CommitOptions } from '../../containers.js';
import type { Engine, ImageDetail } from '../../engine.js';
import { commitInput } from '../../containers/commit.js';
import { toMounts, upperOf } from '../mount.js';
import type { CtrContext } from './lifecycle.js';
import type { CtrRecord } from './records.js';
import { rootMounts } from './rootfs.js';

export async function commitCtr(c: CtrContext, rec: CtrRecord, image: ImageDetail, images: Pick<Engine, 'commitImage'>, opts: CommitOptions): Promise<string> {
  const upper = upperOf(toMounts(await rootMounts(c.unpack, rec.id)));
  if (!upper || !images.commitImage) {
    throw failedPrecondition(`container ${rec.name}'s root is not an overlay snapshot on this machine, so its changes cannot be read`, { hint: 'use the overlayfs snapshotter, or kiln export' });
  }
  const task = (method: 'Pause' | 'Resume') => c.conn.unary('tasks', method, { container_id: rec.id }, `task ${rec.id.slice(0, 12)}`);
  const pause = opts.pause !== false;
  if (pause) await task('Pause');
  try {
    return await images.commitImage(commitInput(rec, image, upper, opts));
  } finally {
    if (pause) await task('Resume');
  }
}
