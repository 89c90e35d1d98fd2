/**
 * Finding local images: by name (normalized, `:latest` added), by full image
 * ID (`sha256:…`), or by a unique ID prefix, as `docker` does.
 */
import { notFound, invalidArgument, isKilnError } from '../errors.js';
import { isIndexType } from '../oci/mediatypes.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import { parseImageManifest } from '../oci/parse.js';
import type { ContentStore, NamedRef, RefStore } from '../content/store.js';
import type { Descriptor, Manifest, Platform } from '../oci/types.js';
import { mapLimit } from './limit.js';
import { resolveTarget, type ResolvedTarget } from './platform-image.js';

/**
 * One local image: what its refs name and the image manifest that stands for it (of an index: the platform's
 * entry, ./platform-image.ts), each as stored — read while resolving; push sends them as they are.
 */
export interface LocalImage extends ResolvedTarget {
  /** Config digest: the image ID. */
  id: string;
  /** Refs (tags) pointing at this image's target. */
  refs: NamedRef[];
}

async function localImage(content: ContentStore, d: Descriptor, refs: NamedRef[], name: string, platform?: Platform): Promise<LocalImage> {
  const t = await resolveTarget(content, d, name, platform);
  return { ...t, id: t.manifest.parsed.config.digest, refs };
}

export async function readManifest(content: ContentStore, desc: Descriptor): Promise<Manifest> {
  const bytes = await content.readBytes(desc.digest);
  return parseImageManifest(bytes, desc.mediaType);
}

/** Images whose documents are read at once while listing (a store of thousands: each read is a few thread-pool trips). */
export const LIST_READS = 16;

/**
 * All images, grouped by manifest (or index) digest: the tagged ones, then those kept without a name (no refs).
 * An index none of whose platforms is stored is left out.
 */
export async function listLocalImages(content: ContentStore, refs: RefStore): Promise<LocalImage[]> {
  const named = await refs.list();
  // Each target once, in the order first seen (an unnamed entry's own digest as its name), then read LIST_READS at a time.
  const targets = new Map<string, { d: Descriptor; name: string }>();
  for (const d of (await refs.unnamed?.()) ?? []) targets.set(d.digest, { d, name: d.digest });
  for (const ref of named) if (!targets.has(ref.descriptor.digest)) targets.set(ref.descriptor.digest, { d: ref.descriptor, name: ref.name });
  const images = await mapLimit([...targets.values()], LIST_READS, async ({ d, name }) => {
    try {
      return await localImage(content, d, [], name);
    } catch (e) {
      if (isIndexType(d.mediaType) && isKilnError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  });
  const byManifest = new Map([...targets.keys()].map((digest, i) => [digest, images[i]]));
  for (const ref of named) byManifest.get(ref.descriptor.digest)?.refs.push(ref);
  return images.filter((i): i is LocalImage => i !== undefined);
}

const hexPrefix = /^(sha256:)?[a-f0-9]{1,64}$/;

/**
 * Resolves what a user typed to one local image, or NOT_FOUND naming it. With `platform`, an index
 * answers that platform's manifest (or NOT_FOUND naming the platforms it has); an image ID may be
 * any stored platform's config digest of an index, or the index digest.
 */
export async function resolveImage(content: ContentStore, refs: RefStore, input: string, platform?: Platform): Promise<LocalImage> {
  const found = await findImage(content, refs, input);
  if (!platform) return found.image;
  return localImage(content, found.image.target.descriptor, found.image.refs, input, platform);
}

/**
 * A plain name (not an ID prefix, not name@digest) whose record exists: only that image's manifest is read (a
 * node's containerd holds hundreds of images, each one a content read when all are listed), with every name
 * the records give it. Undefined when the name has no record, or its record names no stored image.
 */
async function findByName(content: ContentStore, refs: RefStore, input: string): Promise<LocalImage | undefined> {
  if (hexPrefix.test(input) || input.includes('@')) return undefined;
  let name: string;
  try {
    name = formatReference(parseNormalizedNamed(input));
  } catch {
    return undefined; // findImage says what is wrong with it
  }
  // One read of the records: the name's own, and the image's other names.
  const all = await refs.list();
  const d = all.find((r) => r.name === name)?.descriptor;
  if (!d) return undefined;
  try {
    return await localImage(content, d, all.filter((r) => r.descriptor.digest === d.digest), name);
  } catch (e) {
    if (isKilnError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

async function findImage(content: ContentStore, refs: RefStore, input: string): Promise<{ image: LocalImage }> {
  const named = await findByName(content, refs, input);
  if (named) return { image: named };
  const images = await listLocalImages(content, refs);
  if (hexPrefix.test(input)) {
    const prefix = input.startsWith('sha256:') ? input : `sha256:${input}`;
    const hits = images.filter((i) => i.id.startsWith(prefix) || i.target.descriptor.digest === prefix || (i.platforms !== undefined && i.target.descriptor.digest.startsWith(prefix)));
    if (hits.length === 1) return { image: hits[0]! };
    // A container records the config digest of the platform it ran: that platform's view of the index.
    const within = images.filter((i) => i.platforms?.some((p) => p.parsed.config.digest === prefix));
    if (hits.length === 0 && within.length === 1) {
      const p = within[0]!.platforms!.find((x) => x.parsed.config.digest === prefix)!;
      return { image: { ...within[0]!, manifest: p, id: p.parsed.config.digest } };
    }
    if (hits.length > 1) throw invalidArgument(`image ID prefix "${input}" is ambiguous (${hits.length} images match)`, { hint: 'give more characters of the ID' });
  }
  let name: string;
  try {
    name = formatReference(parseNormalizedNamed(input));
  } catch (e) {
    if (hexPrefix.test(input)) throw notFound(`no such image: ${input}`);
    throw e;
  }
  const byName = images.find((i) => i.refs.some((r) => r.name === name));
  if (byName) return { image: byName };
  const digestIdx = name.indexOf('@');
  if (digestIdx > 0) {
    const digest = name.slice(digestIdx + 1);
    const hit = images.find((i) => i.target.descriptor.digest === digest || i.refs.some((r) => r.descriptor.annotations?.[REPO_DIGEST] === digest));
    if (hit) return { image: hit };
  }
  throw notFound(`no such image: ${input}`, { hint: `pull it first: kiln pull ${input}` });
}

/** Annotation on a ref: the digest the registry served for it (index or manifest). */
export const REPO_DIGEST = 'io.kiln.image.repo-digest';

/** Every image manifest a local image stands for: itself, or each stored platform of its index. */
export const imageManifests = (image: LocalImage): { id: string; manifest: Manifest }[] =>
  image.platforms ? image.platforms.map((p) => ({ id: p.parsed.config.digest, manifest: p.parsed })) : [{ id: image.id, manifest: image.manifest.parsed }];
