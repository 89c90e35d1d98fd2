/**
 * Finding local images: by name (normalized, `:latest` added), by full image
 * ID (`sha256:…`), or by a unique ID prefix, as `docker` does.
 */
import { notFound, invalidArgument } from '../errors.js';
import { formatReference, parseNormalizedNamed } from '../name/reference.js';
import { parseImageManifest } from '../oci/parse.js';
import type { ContentStore, NamedRef, RefStore } from '../content/store.js';
import type { Descriptor, Manifest } from '../oci/types.js';

export interface LocalImage {
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  /** Config digest: the image ID. */
  id: string;
  /** Refs (tags) pointing at this manifest. */
  refs: NamedRef[];
}

export async function readManifest(content: ContentStore, desc: Descriptor): Promise<Manifest> {
  const bytes = await content.readBytes(desc.digest);
  return parseImageManifest(bytes, desc.mediaType);
}

/** All images, grouped by manifest digest: the tagged ones, then those kept without a name (no refs). */
export async function listLocalImages(content: ContentStore, refs: RefStore): Promise<LocalImage[]> {
  const byManifest = new Map<string, LocalImage>();
  for (const d of (await refs.unnamed?.()) ?? []) {
    const manifest = await readManifest(content, d);
    byManifest.set(d.digest, { manifestDescriptor: d, manifest, id: manifest.config.digest, refs: [] });
  }
  for (const ref of await refs.list()) {
    const existing = byManifest.get(ref.descriptor.digest);
    if (existing) {
      existing.refs.push(ref);
      continue;
    }
    const manifest = await readManifest(content, ref.descriptor);
    byManifest.set(ref.descriptor.digest, {
      manifestDescriptor: ref.descriptor,
      manifest,
      id: manifest.config.digest,
      refs: [ref],
    });
  }
  return [...byManifest.values()];
}

const hexPrefix = /^(sha256:)?[a-f0-9]{1,64}$/;

/** Resolves what a user typed to one local image, or NOT_FOUND naming it. */
export async function resolveImage(content: ContentStore, refs: RefStore, input: string): Promise<LocalImage> {
  const images = await listLocalImages(content, refs);
  if (hexPrefix.test(input)) {
    const prefix = input.startsWith('sha256:') ? input : `sha256:${input}`;
    const hits = images.filter((i) => i.id.startsWith(prefix) || i.manifestDescriptor.digest === prefix);
    if (hits.length === 1) return hits[0]!;
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
  if (byName) return byName;
  const digestIdx = name.indexOf('@');
  if (digestIdx > 0) {
    const digest = name.slice(digestIdx + 1);
    const hit = images.find((i) => i.manifestDescriptor.digest === digest || i.refs.some((r) => r.descriptor.annotations?.[REPO_DIGEST] === digest));
    if (hit) return hit;
  }
  throw notFound(`no such image: ${input}`, { hint: `pull it first: kiln pull ${input}` });
}

/** Annotation on a ref: the digest the registry served for it (index or manifest). */
export const REPO_DIGEST = 'io.kiln.image.repo-digest';
