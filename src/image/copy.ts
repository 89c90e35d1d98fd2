/**
 * The one walk that moves an image: index → manifest(s) → config and layers.
 * Pull (registry → store), push (store → registry), save (store → archive)
 * and load's completeness check walk the same tree; what differs is where documents are read from and what
 * is done with each blob. Blobs go in parallel (bounded, the biggest started first);
 * each document is handed on after everything it names, so a destination
 * never shows a manifest before its blobs.
 */
import { invalidArgument } from '../errors.js';
import { isIndexType } from '../oci/mediatypes.js';
import { parseManifest } from '../oci/parse.js';
import { hostPlatform, selectManifest } from '../oci/platform.js';
import type { Descriptor, Manifest, Platform } from '../oci/types.js';
import { mapLimit } from './limit.js';

/** A manifest or index and its bytes. */
export interface Fetched {
  descriptor: Descriptor;
  bytes: Buffer;
}

export interface CopyOptions {
  /** Reads a manifest an index names. */
  read(d: Descriptor): Promise<Buffer>;
  /** The manifest of an index to follow: this platform's (default: the host's)… */
  platform?: Platform;
  /** …or every one the source has. */
  every?: { has(d: Descriptor): Promise<boolean> };
  /** Told of each image manifest before its blobs move (progress: what is waiting). */
  planned?(manifest: Manifest): void;
  /** Moves one config or layer of manifest `of`; true when it was copied, false when the destination had it. */
  blob(d: Descriptor, kind: 'config' | 'layer', of: Descriptor): Promise<boolean>;
  /** Receives each manifest or index after everything it names. */
  document?(d: Descriptor, bytes: Buffer): Promise<void>;
  /** Blobs in flight at once (default 3). */
  parallel?: number;
}

export interface Copied {
  /** The image manifest reached (from an index: its entry there, platform included). */
  descriptor: Descriptor;
  manifest: Manifest;
  /** True when a blob had to be copied. */
  copied: boolean;
}

const PARALLEL = 3;
/** How deep indexes may nest (an index of indexes of manifests is 2). */
const MAX_DEPTH = 4;

/** Walks `root`; answers each image manifest reached, in walk order, and whether a blob had to be copied. */
export async function walkImage(root: Fetched, opts: CopyOptions): Promise<{ images: { descriptor: Descriptor; manifest: Manifest }[]; copied: boolean }> {
  const images: { descriptor: Descriptor; manifest: Manifest }[] = [];
  let copied = false;
  const walk = async (node: Fetched, depth: number): Promise<void> => {
    const { descriptor: d, bytes } = node;
    const parsed = parseManifest(bytes, d.mediaType, `${isIndexType(d.mediaType) ? 'index' : 'manifest'} ${d.digest}`);
    if (parsed.kind === 'index') {
      if (depth >= MAX_DEPTH) throw invalidArgument(`index ${d.digest}: indexes nested more than ${MAX_DEPTH} deep`);
      const children = opts.every
        ? await filterAsync(parsed.index.manifests, (c) => opts.every!.has(c))
        : [selectManifest(parsed.index, opts.platform ?? hostPlatform())];
      for (const c of children) await walk({ descriptor: c, bytes: await opts.read(c) }, depth + 1);
    } else {
      const m = parsed.manifest;
      opts.planned?.(m);
      // The biggest blobs start first: the longest transfer is not left waiting behind small ones, and its
      // requests (HEAD, POST, PUT; or its GET) go out ahead of theirs.
      const blobs = [m.config, ...m.layers].map((b, i) => ({ b, kind: i === 0 ? ('config' as const) : ('layer' as const) }));
      const bySize = [...blobs].sort((x, y) => y.b.size - x.b.size);
      const moved = await mapLimit(bySize, opts.parallel ?? PARALLEL, ({ b, kind }) => opts.blob(b, kind, d));
      copied ||= moved.some(Boolean);
      images.push({ descriptor: d, manifest: m });
    }
    await opts.document?.(d, bytes);
  };
  await walk(root, 0);
  return { images, copied };
}

/** Copies one image: `root`, or the platform's manifest of an index `root` is. */
export async function copyImage(root: Fetched, opts: Omit<CopyOptions, 'every'>): Promise<Copied> {
  const { images, copied } = await walkImage(root, opts);
  return { ...images.at(-1)!, copied };
}

async function filterAsync<T>(items: T[], keep: (t: T) => Promise<boolean>): Promise<T[]> {
  const out: T[] = [];
  for (const t of items) if (await keep(t)) out.push(t);
  return out;
}
