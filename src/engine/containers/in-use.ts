/** `rmi` without -f refuses an image a container uses, as docker does (the containerd backend's; the local engine has the same check inline, in src/engine/local/engine.ts). */
import { failedPrecondition } from '../../errors.js';

/** `inUse`: image ID → names of the containers using it; `idOf` resolves what the user typed. */
export async function refuseImagesInUse(inputs: string[], inUse: Map<string, string[]>, idOf: (ref: string) => Promise<string>): Promise<void> {
  if (inUse.size === 0) return;
  for (const r of inputs) {
    const id = await idOf(r);
    const users = inUse.get(id);
    if (users) {
      throw failedPrecondition(`conflict: unable to remove image ${r} (${id.slice(7, 19)}): container ${users[0]} is using it`, {
        hint: `remove the container first (kiln rm ${users[0]}) or use kiln rmi -f`,
      });
    }
  }
}
