/**
 * `tag` and `rmi` on containerd: a tag is one more image record; removing the
 * last tag of an image also removes its `repo@digest` and ID records (as the
 * CRI's RemoveImage does), after which containerd's GC frees its blobs and
 * snapshots. `pin` labels an image's names for the CRI.
 */
import { invalidArgument, notFound } from '../../errors.js';
import { formatReference, parseNormalizedNamed } from '../../name/reference.js';
import type { RemoveResult } from '../engine.js';
import { resolveImage } from '../../image/resolve.js';
import type { ImageStore } from '../../image/store.js';
import type { ContainerdRefStore } from './refs.js';

/** Pins (or unpins) a named image's name, or every name of an image given by ID: the CRI reports it pinned and the kubelet's image GC leaves it. */
export async function pinImages(stores: ImageStore, refs: ContainerdRefStore, inputs: string[], pinned: boolean): Promise<string[]> {
  const changed: string[] = [];
  for (const input of inputs) {
    const image = await resolveImage(stores.content, refs, input);
    const names = image.refs.map((r) => r.name);
    if (names.length === 0) throw invalidArgument(`image ${input} has no name to pin`, { hint: `tag it first: kiln tag ${image.id.slice(7, 19)} NAME:TAG` });
    // A name pins that name (the CRI counts the image pinned); an ID pins every name it has.
    const name = nameOf(input);
    for (const n of name !== undefined && names.includes(name) ? [name] : names) if (await refs.setPinned(n, pinned)) changed.push(n);
  }
  return changed;
}

export async function tagImage(stores: ImageStore, refs: ContainerdRefStore, source: string, target: string): Promise<void> {
  const image = await resolveImage(stores.content, refs, source);
  const ref = parseNormalizedNamed(target);
  if (ref.digest) throw invalidArgument(`cannot tag with a digest reference "${target}"`, { hint: 'use NAME[:TAG]' });
  const { mediaType, digest, size } = image.target.descriptor;
  await refs.set(formatReference(ref), { mediaType, digest, size });
}

function nameOf(input: string): string | undefined {
  try {
    return formatReference(parseNormalizedNamed(input));
  } catch {
    return undefined; // an ID, not a name
  }
}

export async function removeImages(stores: ImageStore, refs: ContainerdRefStore, inputs: string[], opts: { force?: boolean } = {}): Promise<RemoveResult> {
  const result: RemoveResult = { untagged: [], deleted: [] };
  for (const input of inputs) {
    const image = await resolveImage(stores.content, refs, input);
    const names = image.refs.map((r) => r.name);
    const tags = names.filter((n) => !n.includes('@'));
    const name = nameOf(input);
    const byName = name !== undefined && names.includes(name) ? name : undefined;
    if (!byName && tags.length > 1 && !opts.force) {
      throw invalidArgument(`conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, { hint: 'use kiln rmi -f' });
    }
    const lastTag = byName === undefined || tags.filter((t) => t !== byName).length === 0;
    const targets = lastTag ? names : [byName!];
    for (const n of targets) {
      if (!(await refs.delete(n)) && n === byName) throw notFound(`no such image: ${n}`);
      result.untagged.push(n);
    }
    if (lastTag) {
      await refs.delete(image.id);
      result.deleted.push(image.id);
    }
  }
  return result;
}
