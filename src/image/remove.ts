/** Tagging and removing images in an ImageStore (containerd keeps its own records: src/engine/containerd/remove.ts). */
import { invalidArgument, notFound } from '../errors.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import type { RemoveResult } from './types.js';
import { resolveImage } from './resolve.js';
import type { ImageStore } from './store.js';

export async function tagImage(stores: ImageStore, source: string, target: string): Promise<void> {
  const image = await resolveImage(stores.content, stores.refs, source);
  const ref = parseNormalizedNamed(target);
  if (ref.digest) throw invalidArgument(`cannot tag with a digest reference "${target}"`, { hint: 'use NAME[:TAG]' });
  await stores.setRef(formatReference(ref), image.target.descriptor);
}

/**
 * `rmi`: by name untags (and deletes the image when it was the last tag); by ID
 * deletes the image, which needs -f when it has several tags.
 */
export async function removeImages(stores: ImageStore, inputs: string[], opts: { force?: boolean } = {}): Promise<RemoveResult> {
  const result: RemoveResult = { untagged: [], deleted: [] };
  for (const input of inputs) {
    const image = await resolveImage(stores.content, stores.refs, input);
    let byName: string | undefined;
    try {
      const name = formatReference(parseNormalizedNamed(input));
      if (image.refs.some((r) => r.name === name)) byName = name;
    } catch {
      byName = undefined; // an ID, not a name
    }
    const targets = byName ? [byName] : image.refs.map((r) => r.name);
    if (!byName && targets.length > 1 && !opts.force) {
      throw invalidArgument(`conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, { hint: 'use kiln rmi -f' });
    }
    for (const name of targets) {
      if (!(await stores.refs.delete(name))) throw notFound(`no such image: ${name}`);
      result.untagged.push(name);
    }
    if (targets.length === 0) await stores.refs.forget?.(image.target.descriptor.digest);
    // Still an image while an entry (a name, or an unnamed one) names its target: the records, not every image's manifest.
    const digest = image.target.descriptor.digest;
    const still = (await stores.refs.list()).some((r) => r.descriptor.digest === digest) || ((await stores.refs.unnamed?.()) ?? []).some((d) => d.digest === digest);
    if (!still) result.deleted.push(image.id);
  }
  return result;
}
