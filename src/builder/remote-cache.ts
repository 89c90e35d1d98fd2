/**
 * The build cache in a registry (`--cache-from` / `--cache-to type=registry,ref=…`),
 * like kaniko's --cache-repo. kiln's own format, one OCI image manifest per ref:
 *
 *   manifest  application/vnd.oci.image.manifest.v1+json
 *     config  application/vnd.kiln.buildcache.config.v1+json  → RemoteCacheConfig
 *     layers  every layer blob the steps below name (so the registry keeps them)
 *
 *   config    { "version": 1, "steps": { "<step key>": { "created": "…",
 *                 "layer"?: <descriptor>, "diffId"?: "sha256:…", "emptyLayer"?: true } } }
 *
 * Step keys are the local cache's keys (parent key + instruction + source
 * hashes), the same on every machine. A remote hit streams the layer blob into
 * the store and records it in the local cache; nothing runs.
 */
import { Readable } from 'node:stream';
import { invalidArgument, isKilnError } from '../errors.js';
import { parseNormalizedNamed, identifier, type Reference } from '../name/reference.js';
import { MediaType } from '../oci/mediatypes.js';
import { sha256Digest } from '../oci/digest.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import type { Repository } from '../registry/repository.js';
import type { CacheRecord } from './cache.js';
import type { BuildProgress, CacheExport } from './types.js';

export const CACHE_CONFIG_TYPE = 'application/vnd.kiln.buildcache.config.v1+json';

export interface RemoteCacheStep {
  created: string;
  layer?: Descriptor;
  diffId?: string;
  emptyLayer?: true;
}

export interface RemoteCacheConfig {
  version: 1;
  steps: Record<string, RemoteCacheStep>;
}

/** What an engine injects for registry caches: its registry client and its blob transfers. */
export interface CacheRegistry {
  repository(domain: string, path: string, actions: ('pull' | 'push')[]): Repository;
  /** Streams a blob of `repo` into the store (a no-op when it is stored). */
  fetchBlob(repo: Repository, desc: Descriptor, signal?: AbortSignal): Promise<unknown>;
  /** Uploads a stored blob unless the registry has it (HEAD) or can mount it from `mountFrom`. */
  pushBlob(repo: Repository, desc: Descriptor, mountFrom: string[]): Promise<unknown>;
}

const toStep = (rec: CacheRecord): RemoteCacheStep =>
  rec.layer ? { created: rec.created, layer: rec.layer.descriptor, diffId: rec.layer.diffId } : { created: rec.created, emptyLayer: true };

const toRecord = (st: RemoteCacheStep): CacheRecord =>
  st.layer && st.diffId ? { created: st.created, layer: { descriptor: st.layer, diffId: st.diffId } } : { created: st.created };

function parseCacheRef(ref: string, flag: string): Reference {
  try {
    return parseNormalizedNamed(ref);
  } catch (e) {
    throw invalidArgument(`${flag} ref=${ref}: not an image reference`, { cause: e, hint: 'use ref=HOST/REPO:TAG' });
  }
}

/** The steps of every `--cache-from` ref, read once at the start of a build. */
export class RemoteCacheSource {
  private constructor(
    private readonly registry: CacheRegistry,
    private readonly sources: { repo: Repository; steps: Record<string, RemoteCacheStep> }[],
    private readonly signal?: AbortSignal,
  ) {}

  /** Loads each ref's cache config; a ref that cannot be read is one warning, not a failure. */
  static async load(registry: CacheRegistry, refs: string[], progress: BuildProgress, signal?: AbortSignal): Promise<RemoteCacheSource> {
    const sources: { repo: Repository; steps: Record<string, RemoteCacheStep> }[] = [];
    for (const ref of refs) {
      const r = parseCacheRef(ref, '--cache-from');
      const repo = registry.repository(r.domain, r.path, ['pull']);
      try {
        sources.push({ repo, steps: await readCacheConfig(repo, identifier(r)) });
      } catch (e) {
        if (!isKilnError(e) || e.code === 'CANCELLED') throw e;
        progress.emit({ kind: 'warning', message: `--cache-from ${ref}: ${e.message}; building without it` });
      }
    }
    return new RemoteCacheSource(registry, sources, signal);
  }

  get empty(): boolean {
    return this.sources.length === 0;
  }

  /** The step's record from the first ref that has it, its layer blob streamed into the store. */
  async get(key: string): Promise<CacheRecord | undefined> {
    for (const { repo, steps } of this.sources) {
      const st = steps[key];
      if (!st) continue;
      if (st.layer) await this.registry.fetchBlob(repo, st.layer, this.signal);
      return toRecord(st);
    }
    return undefined;
  }

  /** Repositories of the cache sources (blobs can be mounted from them on the same registry). */
  get repositories(): Repository[] {
    return this.sources.map((s) => s.repo);
  }
}

function parseJson<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString()) as T;
  } catch (e) {
    throw invalidArgument(`${where}: not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

async function readCacheConfig(repo: Repository, reference: string): Promise<Record<string, RemoteCacheStep>> {
  const { descriptor, bytes } = await repo.getManifest(reference);
  const where = `${repo.domain}/${repo.path}@${descriptor.digest}`;
  const manifest = parseJson<Manifest>(bytes, where);
  if (!manifest.config || manifest.config.mediaType !== CACHE_CONFIG_TYPE) {
    throw invalidArgument(`${where} is not a kiln build cache (config ${manifest.config?.mediaType ?? 'missing'})`);
  }
  const chunks: Buffer[] = [];
  for await (const c of await repo.getBlob(manifest.config.digest, { size: manifest.config.size })) chunks.push(c as Buffer);
  const config = parseJson<RemoteCacheConfig>(Buffer.concat(chunks), where);
  if (config.version !== 1 || typeof config.steps !== 'object' || config.steps === null) throw invalidArgument(`${where}: unsupported kiln build cache version ${String(config.version)}`);
  return config.steps;
}

/** Pushes the records' layer blobs, then the cache config and the manifest under the ref's tag. */
export async function exportCache(registry: CacheRegistry, to: CacheExport, records: Map<string, CacheRecord>, mountFrom: Repository[]): Promise<string> {
  const r = parseCacheRef(to.ref, '--cache-to');
  const repo = registry.repository(r.domain, r.path, ['pull', 'push']);
  const steps: Record<string, RemoteCacheStep> = {};
  const layers = new Map<string, Descriptor>();
  for (const [key, rec] of [...records.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    steps[key] = toStep(rec);
    if (rec.layer) layers.set(rec.layer.descriptor.digest, rec.layer.descriptor);
  }
  const from = mountFrom.filter((m) => m.domain === repo.domain && m.path !== repo.path).map((m) => m.path);
  for (const d of layers.values()) await registry.pushBlob(repo, d, from);
  const config: RemoteCacheConfig = { version: 1, steps };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_TYPE, digest: sha256Digest(configBytes), size: configBytes.length };
  if ((await repo.statBlob(configDesc.digest)) === undefined) {
    await repo.pushBlob({ digest: configDesc.digest, size: configDesc.size }, async () => Readable.from([configBytes]));
  }
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: [...layers.values()] };
  return repo.putManifest(identifier(r), Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest);
}
