/**
 * Remote build caches in BuildKit's format (`--cache-from`, `--cache-to
 * type=registry|local`), read and written through a CacheLocation:
 *
 *   root = an OCI image manifest whose config is the cache config
 *          (application/vnd.buildkit.cacheconfig.v0; BuildKit's `image-manifest=true`,
 *          kiln's default) and whose layers are the layer blobs, or
 *        = an OCI image index listing the layer blobs and the cache config
 *          (`image-manifest=false`, what BuildKit before 0.21 and Docker 20.10 write), or
 *        = an image whose config carries an inline cache (./cache-inline.ts), or an index
 *          of such images (a multi-platform build's: every platform's records).
 *
 * The cache config is ./cache-config.ts. A step found by its key streams its
 * layer blob into the store and is recorded in the local cache; nothing runs.
 */
import { invalidArgument, isKilnError } from '../errors.js';
import { isIndexType, MediaType } from '../oci/mediatypes.js';
import { sha256Digest } from '../oci/digest.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../oci/types.js';
import type { Repository } from '../registry/repository.js';
import type { CacheRecord } from './cache.js';
import type { PendingBlobs } from './pending-blobs.js';
import { BUILDKIT_CACHE_CONFIG, decodeCacheConfig, encodeCacheConfig, type CacheConfig, type ExportChain, type StepLookup, firstOf } from './cache-config.js';
import { decodeInlineCache } from './cache-inline.js';
import { decodeBuildkitChains } from './buildkit-keys/chains.js';
import { addBuildkitRecords } from './buildkit-keys/export.js';
import type { StepOp } from './buildkit-keys/stage-chain.js';
import type { CacheLocation } from './cache-location.js';
import type { BuildProgress } from './types.js';

function parseJson<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString()) as T;
  } catch (e) {
    throw invalidArgument(`${where}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Every step a location's cache holds, by key. */
export async function readCache(loc: CacheLocation): Promise<StepLookup> {
  const { descriptor, bytes } = await loc.readRoot();
  const where = `${loc.name}@${descriptor.digest}`;
  const doc = parseJson<Partial<Manifest & Index>>(bytes, where);
  const blobs = new Map<string, Descriptor>();
  let configDesc: Descriptor | undefined;
  if (Array.isArray(doc.manifests) || isIndexType(doc.mediaType ?? descriptor.mediaType)) {
    for (const m of doc.manifests ?? []) {
      if (m.mediaType === BUILDKIT_CACHE_CONFIG) configDesc = m;
      else blobs.set(m.digest, m);
    }
    if (!configDesc && (doc.manifests ?? []).some((m) => isImageManifest(m.mediaType))) return readIndexInline(loc, doc.manifests!, where);
    if (!configDesc) throw invalidArgument(`${where} is an image index with no BuildKit cache config (${BUILDKIT_CACHE_CONFIG})`);
  } else if (doc.config) {
    for (const l of doc.layers ?? []) blobs.set(l.digest, l);
    if (doc.config.mediaType !== BUILDKIT_CACHE_CONFIG) {
      // An image: its config may carry an inline cache.
      const config = parseJson<ImageConfig & Record<string, unknown>>(await loc.readBytes(doc.config), where);
      return decodeInlineCache(doc as Manifest, config, where);
    }
    configDesc = doc.config;
  } else {
    throw invalidArgument(`${where} is neither a cache manifest nor an image`);
  }
  const config = parseJson<CacheConfig>(await loc.readBytes(configDesc), where);
  // kiln's keys and the chain names of BuildKit's records (distinct hashes: one lookup).
  return firstOf([decodeCacheConfig(config, blobs, where), decodeBuildkitChains(config, blobs, where)]);
}

const isImageManifest = (mt: string): boolean => mt === MediaType.OciManifest || mt === MediaType.DockerManifest;

/** A multi-platform image (`--cache-to type=inline` of a multi-platform build): the inline caches of its platforms' configs. */
async function readIndexInline(loc: CacheLocation, manifests: Descriptor[], where: string): Promise<StepLookup> {
  const out: StepLookup[] = [];
  for (const m of manifests.filter((d) => isImageManifest(d.mediaType))) {
    const manifest = parseJson<Manifest>(await (loc.readManifest ?? loc.readBytes)(m), `${where} → ${m.digest}`);
    if (!manifest.config) continue;
    const config = parseJson<ImageConfig & Record<string, unknown>>(await loc.readBytes(manifest.config), `${where} → ${m.digest}`);
    out.push(decodeInlineCache(manifest, config, where));
  }
  return firstOf(out);
}

/** The steps of every `--cache-from` location, read once at the start of a build. */
export class RemoteCacheSource {
  private constructor(
    private readonly sources: { loc: CacheLocation; steps: StepLookup; ownKeys?: boolean }[],
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Every location has answered one of kiln's own step keys in this build, so kiln wrote each (a BuildKit cache
   * holds none), and its BuildKit records name steps it also has under kiln's keys: BuildKit's names need not
   * be computed to look steps up in them (stage.ts; a COPY's would read every source again).
   */
  get answersOwnKeys(): boolean {
    return this.sources.length > 0 && this.sources.every((s) => s.ownKeys);
  }

  /** Reads each location's cache; one that cannot be read is one warning, not a failure. */
  static async load(locations: CacheLocation[], progress: BuildProgress, signal?: AbortSignal): Promise<RemoteCacheSource> {
    const sources: { loc: CacheLocation; steps: StepLookup; ownKeys?: boolean }[] = [];
    for (const loc of locations) {
      try {
        sources.push({ loc, steps: await readCache(loc) });
      } catch (e) {
        if (!isKilnError(e) || e.code === 'CANCELLED') throw e;
        progress.emit({ kind: 'warning', message: `${loc.flag ?? '--cache-from'} ${loc.name}: ${e.message}; building without it` });
      }
    }
    return new RemoteCacheSource(sources, signal);
  }

  get empty(): boolean {
    return this.sources.length === 0;
  }

  /**
   * The step's record from the first location that has it, its layer blob streamed into the store: before it
   * answers, or with `fetching` in the background (the build waits for it where it reads the blob).
   */
  async get(key: string, fetching?: PendingBlobs, buildkit = false): Promise<CacheRecord | undefined> {
    for (const source of this.sources) {
      const { loc, steps } = source;
      const st = steps.get(key);
      if (!st || (loc.notBefore !== undefined && !(Date.parse(st.created) >= loc.notBefore))) continue;
      if (!buildkit) source.ownKeys = true;
      const layer = st.layer?.descriptor;
      if (layer && fetching) fetching.start(layer.digest, () => loc.fetch(layer, this.signal));
      else if (layer) await loc.fetch(layer, this.signal);
      return st;
    }
    return undefined;
  }

  /** Registry repositories of the sources (blobs can be mounted from them on the same registry). */
  get repositories(): Repository[] {
    return this.sources.flatMap((s) => (s.loc.repository ? [s.loc.repository] : []));
  }
}

/**
 * Writes the chains' records: each layer blob (unless the location has it),
 * the cache config, then the root: an image manifest (`imageManifest`, the
 * default) or an image index. Answers the root's digest.
 */
export async function exportCache(loc: CacheLocation, chains: ExportChain[], records: Map<string, CacheRecord>, imageManifest = true, ops?: Map<string, StepOp>): Promise<string> {
  const { config, blobs } = encodeCacheConfig(chains, records);
  // BuildKit's records too, for the steps whose ops kiln knows (`ops`: the build's), so buildkitd hits them.
  if (ops) addBuildkitRecords(config, chains, records, ops);
  for (const d of blobs) await loc.push(d);
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc: Descriptor = { mediaType: BUILDKIT_CACHE_CONFIG, digest: sha256Digest(configBytes), size: configBytes.length };
  await loc.putBytes(configDesc, configBytes);
  if (imageManifest) {
    const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: blobs };
    return loc.putRoot(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest);
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...blobs, configDesc] };
  return loc.putRoot(Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
}
