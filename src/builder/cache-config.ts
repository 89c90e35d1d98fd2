/**
 * BuildKit's cache config (`application/vnd.buildkit.cacheconfig.v0`), the
 * document every BuildKit remote cache (registry, local, inline) carries:
 *
 *   layers   [{ blob, parent (index, -1: none), annotations? }]: each entry is a layer *chain*
 *   records  [{ digest (a cache key), inputs: [[{ selector?, link (record index) }]],
 *               layers?: [{ layer (index: that chain), createdAt }],
 *               chains?: [{ layers: [indexes, in order], createdAt }] }]
 *
 * kiln writes its own step keys as record digests: one root record per base
 * (the base key, its layers as the result), then each step linked to the one
 * before it (`inputs[0][0].link`), its result the chain after the step. A step
 * with no layer (ENV, CMD…) has its parent's chain as its result, with its own
 * `createdAt`, so a fresh machine gets the same image ID.
 *
 * Reading gives key → step for every record whose result is its parent's chain
 * (no layer) or that chain plus one layer (the step's layer): BuildKit's own
 * records decode the same way, but their digests hash BuildKit's LLB
 * definitions and content checksums, never a kiln key, so they never match.
 */
import { invalidArgument } from '../errors.js';
import type { Descriptor } from '../oci/types.js';
import type { CacheRecord } from './cache.js';
import type { CommittedLayer } from './layer-commit.js';

export const BUILDKIT_CACHE_CONFIG = 'application/vnd.buildkit.cacheconfig.v0';
/** containerd's annotation (and label) for a blob's uncompressed digest. */
export const UNCOMPRESSED = 'containerd.io/uncompressed';
export const CREATED_AT = 'buildkit/createdat';

export interface CacheLayer {
  blob: string;
  parent?: number;
  annotations?: { mediaType?: string; diffID?: string; size?: number; createdAt?: string };
}

export interface CacheInput {
  selector?: string;
  link: number;
}

export interface CacheRecordJson {
  digest: string;
  inputs?: CacheInput[][];
  layers?: { layer: number; createdAt?: string }[];
  chains?: { layers: number[]; createdAt?: string }[];
}

export interface CacheConfig {
  layers?: CacheLayer[];
  records?: CacheRecordJson[];
}

/** One state's lineage to export: its base (key and layers) and the keys of the steps since. */
export interface ExportChain {
  baseKey: string;
  baseLayers: CommittedLayer[];
  steps: string[];
}

const ZERO_TIME = '1970-01-01T00:00:00Z';

/** Chains + records → the config and the layer descriptors it names (in its `layers` order, annotated). */
export function encodeCacheConfig(chains: ExportChain[], records: Map<string, CacheRecord>): { config: CacheConfig; blobs: Descriptor[] } {
  const layers: CacheLayer[] = [];
  const blobs: Descriptor[] = [];
  const layerIndex = new Map<string, number>();
  const recs: CacheRecordJson[] = [];
  const recIndex = new Map<string, number>();

  const addLayer = (l: CommittedLayer, parent: number, created: string): number => {
    const id = `${l.descriptor.digest}/${parent}`;
    const known = layerIndex.get(id);
    if (known !== undefined) return known;
    layerIndex.set(id, layers.length);
    const { annotations, ...d } = l.descriptor;
    layers.push({ blob: d.digest, parent, annotations: { mediaType: d.mediaType, diffID: l.diffId, size: d.size, createdAt: created } });
    if (!blobs.some((b) => b.digest === d.digest)) blobs.push({ ...d, annotations: { ...(annotations ?? {}), [UNCOMPRESSED]: l.diffId, [CREATED_AT]: created } });
    return layers.length - 1;
  };
  const addRecord = (digest: string, parentRec: number | undefined, top: number, created: string): number => {
    const known = recIndex.get(digest);
    if (known !== undefined) return known;
    recIndex.set(digest, recs.length);
    recs.push({
      digest,
      ...(parentRec !== undefined ? { inputs: [[{ link: parentRec }]] } : {}),
      ...(top >= 0 ? { layers: [{ layer: top, createdAt: created }] } : {}),
    });
    return recs.length - 1;
  };

  for (const chain of chains) {
    let top = -1;
    for (const l of chain.baseLayers) top = addLayer(l, top, ZERO_TIME);
    let rec = addRecord(chain.baseKey, undefined, top, ZERO_TIME);
    for (const key of chain.steps) {
      const r = records.get(key);
      if (!r) break;
      if (r.layer) top = addLayer(r.layer, top, r.created);
      rec = addRecord(key, rec, top, r.created);
    }
  }
  return { config: { layers, records: recs }, blobs };
}

/** A cached step as a cache config gives it: its layer (descriptor, diff ID) or none, and its time. */
export type DecodedStep = CacheRecord;

/** The steps a cache holds, asked by key (kiln's step key, or the chain name of a BuildKit record). */
export interface StepLookup<T extends DecodedStep = DecodedStep> {
  get(key: string): T | undefined;
}

/** The first of `lookups` that has the key answers. */
export const firstOf = (lookups: StepLookup[]): StepLookup => ({ get: (key) => lookups.reduce<DecodedStep | undefined>((found, l) => found ?? l.get(key), undefined) });

/**
 * The steps a config holds, by record digest. `blobs` are the layer
 * descriptors its manifest lists (by digest); a diff ID comes from the
 * config's layer annotations, else the descriptor's `containerd.io/uncompressed`.
 */
export function decodeCacheConfig(config: CacheConfig, blobs: Map<string, Descriptor>, where: string): Map<string, DecodedStep> {
  const layers = config.layers ?? [];
  const records = config.records ?? [];
  if (!Array.isArray(layers) || !Array.isArray(records)) throw invalidArgument(`${where}: not a BuildKit cache config (layers and records must be arrays)`);
  const out = new Map<string, DecodedStep>();
  const topOf = (r: CacheRecordJson | undefined): number | undefined => (r?.layers?.length ? r.layers[0]!.layer : undefined);
  for (const r of records) {
    if (typeof r?.digest !== 'string') continue;
    const top = topOf(r);
    const link = r.inputs?.[0]?.[0]?.link;
    if (top === undefined || link === undefined || !Number.isInteger(top) || top < 0 || top >= layers.length) continue;
    const parent = records[link];
    const parentTop = parent?.layers?.length ? topOf(parent)! : -1;
    const created = r.layers![0]!.createdAt ?? ZERO_TIME;
    if (top === parentTop) {
      out.set(r.digest, { created });
      continue;
    }
    const l = layers[top]!;
    // Go omits a parent of 0 (omitempty): absent means 0.
    if ((l.parent ?? 0) !== parentTop) continue;
    const desc = blobs.get(l.blob);
    const diffId = l.annotations?.diffID ?? desc?.annotations?.[UNCOMPRESSED];
    if (!desc || !diffId) continue;
    out.set(r.digest, { created, layer: { descriptor: plainDescriptor(desc), diffId } });
  }
  return out;
}

const plainDescriptor = (d: Descriptor): Descriptor => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });
