/**
 * What builds killed earlier left under a root (`kiln system check` names it,
 * the next `kiln build` and `kiln system prune` clear it): RUN containers still
 * running in the builder's runc root and scratch dirs, then the overlay mounts
 * the containers ran on. Only records whose owner process is gone count, so
 * live builds are untouched.
 */
import { builderStateDir, clearStaleOwned, staleOwned, type StaleOwned } from '../../builder/owned.js';
import { runcRoot } from '../../runtime/paths.js';
import { clearStaleMounts, staleMounts } from '../../snapshot/overlay.js';
import type { CheckProblem } from '../engine.js';

const HINT = 'run kiln system prune to clear';

const describe = (root: string, o: StaleOwned): string =>
  o.kind === 'container' ? `runc container ${o.name} (runc root ${runcRoot(builderStateDir(root))})` : `scratch dir ${o.name}`;

export async function buildLeftovers(root: string): Promise<CheckProblem[]> {
  const owned = (await staleOwned(builderStateDir(root))).map((o) => ({
    kind: 'leftover',
    subject: describe(root, o),
    message: `${o.kind === 'container' ? 'RUN container' : 'scratch files'} of a build that is gone (pid ${o.pid}); ${HINT}`,
  }));
  const mounts = (await staleMounts(root)).map((m) => ({
    kind: 'leftover',
    subject: `mount ${m.rootfs}`,
    message: `build root of a build that is gone (pid ${m.pid}); ${HINT}`,
  }));
  return [...owned, ...mounts];
}

/** Clears them, containers first (they keep their mounts busy); returns what was cleared. */
export async function clearBuildLeftovers(root: string): Promise<string[]> {
  const owned = await clearStaleOwned(builderStateDir(root));
  const mounts = await clearStaleMounts(root);
  return [...owned.map((o) => describe(root, o)), ...mounts.map((m) => `mount ${m}`)];
}
