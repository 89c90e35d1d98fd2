/** `rmi` without -f refuses an image a container uses, as docker does: one check for every backend. */
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

/** Image ID → names of the containers (records of any backend) using it. */
export function usersByImage(records: { imageId: string; name: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of records) out.set(r.imageId, [...(out.get(r.imageId) ?? []), r.name]);
  return out;
}
