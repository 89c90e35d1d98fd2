/** `rmi` without -f refuses an image a container uses, as docker does: one check for every backend. */
import { failedPrecondition } from '../../errors.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';

/** What `rmi` would act on: the image's ID then its platforms' image IDs, and the names it has. */
export interface ImageUse {
  ids: string[];
  names: string[];
}

/**
 * `inUse`: image ID → names of the containers using it; `imageOf` resolves what the user typed to the image's
 * ID, then the IDs of its platforms' images (a multi-platform image is in use when a container runs any of them),
 * and its names. As docker: a name of an image with another tag only untags it, which a container does not stop.
 */
export async function refuseImagesInUse(inputs: string[], inUse: Map<string, string[]>, imageOf: (ref: string) => Promise<ImageUse>): Promise<void> {
  if (inUse.size === 0) return;
  // names this command removes before the next input's turn (`rmi app:1 app:2`: the second is then the last tag)
  const removed = new Set<string>();
  for (const r of inputs) {
    const { ids, names } = await imageOf(r);
    if (untagsOnly(r, names, removed)) continue;
    const id = ids[0]!;
    const user = ids.flatMap((i) => inUse.get(i) ?? [])[0];
    if (user) {
      throw failedPrecondition(`conflict: unable to remove image ${r} (${id.slice(7, 19)}): container ${user} is using it`, {
        hint: `remove the container first with kiln rm ${user}, or use kiln rmi -f`,
      });
    }
  }
}

/** True when `input` is one of the image's names and another tag stays (one not in `removed`); the name joins `removed`. */
function untagsOnly(input: string, names: string[], removed: Set<string>): boolean {
  let name: string;
  try {
    name = formatReference(parseNormalizedNamed(input));
  } catch {
    return false; // an ID
  }
  if (!names.includes(name) || !names.some((n) => n !== name && !n.includes('@') && !removed.has(n))) return false;
  removed.add(name);
  return true;
}

/** Image ID → names of the containers (records of any backend) using it. */
export function usersByImage(records: { imageId: string; name: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of records) out.set(r.imageId, [...(out.get(r.imageId) ?? []), r.name]);
  return out;
}
