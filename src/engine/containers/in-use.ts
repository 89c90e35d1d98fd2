/** `rmi` without -f refuses an image a container uses, as docker does: one check for every backend. */
import { failedPrecondition } from '../../errors.js';

/**
 * `inUse`: image ID → names of the containers using it; `idsOf` resolves what the user typed to the image's
 * ID, then the IDs of its platforms' images (a multi-platform image is in use when a container runs any of them).
 */
export async function refuseImagesInUse(inputs: string[], inUse: Map<string, string[]>, idsOf: (ref: string) => Promise<string[]>): Promise<void> {
  if (inUse.size === 0) return;
  for (const r of inputs) {
    const ids = await idsOf(r);
    const id = ids[0]!;
    const user = ids.flatMap((i) => inUse.get(i) ?? [])[0];
    if (user) {
      throw failedPrecondition(`conflict: unable to remove image ${r} (${id.slice(7, 19)}): container ${user} is using it`, {
        hint: `remove the container first (kiln rm ${user}) or use kiln rmi -f`,
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
