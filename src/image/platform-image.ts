/**
 * Local images that are indexes (a multi-platform build, a pull of a
 * multi-platform image): the ref names the index, and the store holds the
 * manifests of some of its platforms (all of a build's; those pulled). One of
 * them stands for the image: the one asked for, else the host's, else the
 * first present. A platform the index lacks, or lacks locally, is one line
 * naming the image and the platforms it has.
 */
import { notFound } from '../errors.js';
import { isIndexType } from '../oci/mediatypes.js';
import { parseConfig, parseImageManifest, parseIndex } from '../oci/parse.js';
import { displayPlatform, hostPlatform, platformRank } from '../oci/platform.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor, Index, Manifest, Platform } from '../oci/types.js';
import type { StoredDocument } from './stored.js';

/** One platform's image manifest of an index, present in the store. */
export interface PlatformImage extends StoredDocument<Manifest> {
  platform: Platform;
}

/** What a ref names once its index (if any) is resolved to one platform's manifest. */
export interface ResolvedTarget {
  /** What the ref names: an image manifest, or an index (a multi-platform image). */
  target: StoredDocument<Manifest | Index>;
  /** The image manifest that stands for the image: the target itself, or the index's entry for the platform. */
  manifest: StoredDocument<Manifest>;
  /** Of an index: its platforms present in the store (every entry's manifest and config are stored). */
  platforms?: PlatformImage[];
}

/** Platforms an index's entries name (those of attestations, `unknown/unknown`, left out). */
const named = (ds: Descriptor[]): Platform[] => ds.flatMap((d) => (d.platform && d.platform.os !== 'unknown' ? [d.platform] : []));

/** The present entries of an index: their manifest and config blobs are in the store. */
async function presentPlatforms(content: ContentStore, parsed: Index): Promise<{ present: PlatformImage[]; all: Platform[] }> {
  const present: PlatformImage[] = [];
  for (const d of parsed.manifests) {
    if (!d.platform || d.platform.os === 'unknown' || isIndexType(d.mediaType)) continue;
    if (!(await content.stat(d.digest))) continue;
    const bytes = await content.readBytes(d.digest);
    const manifest = parseImageManifest(bytes, d.mediaType, `manifest ${d.digest}`);
    if (!(await content.stat(manifest.config.digest))) continue;
    present.push({ descriptor: d, bytes, parsed: manifest, platform: d.platform });
  }
  return { present, all: named(parsed.manifests) };
}

function best(images: PlatformImage[], want: Platform): PlatformImage | undefined {
  let pick: PlatformImage | undefined;
  let rank = Infinity;
  for (const p of images) {
    const r = platformRank(want, p.platform);
    if (r !== undefined && r < rank) [pick, rank] = [p, r];
  }
  return pick;
}

const list = (ps: Platform[]): string => [...new Set(ps.map(displayPlatform))].join(', ') || 'none';

/**
 * The image manifest `target` stands for: itself, or an index's entry for `platform`
 * (asked: it must be there; not asked: the host's, else the first present).
 * `name` is what the user called it, for the error.
 */
export async function resolveTarget(content: ContentStore, target: Descriptor, name: string, platform?: Platform): Promise<ResolvedTarget> {
  const bytes = await content.readBytes(target.digest);
  if (!isIndexType(target.mediaType)) {
    const manifest = parseImageManifest(bytes, target.mediaType, `manifest ${target.digest}`);
    if (platform) await checkPlatform(content, manifest, name, platform);
    const stored = { descriptor: target, bytes, parsed: manifest };
    return { target: stored, manifest: stored };
  }
  const index = parseIndex(bytes, target.mediaType, `index ${target.digest}`);
  const { present, all } = await presentPlatforms(content, index);
  const chosen = platform ? best(present, platform) : (best(present, hostPlatform()) ?? present[0]);
  if (!chosen) {
    const want = displayPlatform(platform ?? hostPlatform());
    const local = present.length < all.length ? ` (stored here: ${list(present.map((p) => p.platform))})` : '';
    throw notFound(`image ${name} has no manifest for platform ${want}; it has ${list(all)}${local}`, {
      hint: platform ? `pull it with --platform ${want}, or build it for ${want}` : `pull it with --platform`,
    });
  }
  return { target: { descriptor: target, bytes, parsed: index }, manifest: chosen, platforms: present };
}

/** A single-platform image asked for another platform: one line naming both. */
async function checkPlatform(content: ContentStore, manifest: Manifest, name: string, want: Platform): Promise<void> {
  const config = parseConfig(await content.readBytes(manifest.config.digest));
  if (!config.architecture || !config.os) return;
  const have: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (platformRank(want, have) === undefined) {
    throw notFound(`image ${name} has no manifest for platform ${displayPlatform(want)}; it has ${displayPlatform(have)}`, {
      hint: `pull it with --platform ${displayPlatform(want)}, or build it for that platform`,
    });
  }
}
