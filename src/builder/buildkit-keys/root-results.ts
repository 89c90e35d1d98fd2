/**
 * A root record BuildKit exported without its result: an op with no input
 * (a WORKDIR as a stage's first op on scratch: scratch-chain.ts) is exported
 * like a source, its layer only in the chains of the records that ran on it.
 * Its result is read from such a record (one linking it as its first input,
 * the state it ran on): the layer beneath that record's top, when that layer
 * is the first of its chain (an op on scratch made exactly one layer).
 */
import type { CacheConfig } from '../cache-config.js';

/**
 * For each root record with no result: the index of a layer that is its
 * result, from a record linking it first; its time is the layer's own
 * (`layerCreated`: BuildKit's `buildkit/createdat` annotation) else that record's.
 */
export function rootLayers(config: CacheConfig, layerCreated: (layer: number) => string | undefined = () => undefined): Map<number, { layer: number; createdAt: string }> {
  const records = config.records ?? [];
  const layers = config.layers ?? [];
  const out = new Map<number, { layer: number; createdAt: string }>();
  for (const r of records) {
    const top = r.layers?.[0]?.layer;
    const first = Array.isArray(r.inputs?.[0]) ? r.inputs[0] : [];
    if (top === undefined || !Number.isInteger(top) || top < 0 || top >= layers.length) continue;
    const below = layers[top]?.parent ?? 0;
    if (!Number.isInteger(below) || below < 0 || below >= layers.length || (layers[below]?.parent ?? 0) !== -1) continue;
    for (const l of first) {
      const root = Number.isInteger(l?.link) ? records[l.link] : undefined;
      if (!root || (root.inputs ?? []).length > 0 || root.layers?.length || out.has(l.link)) continue;
      out.set(l.link, { layer: below, createdAt: layerCreated(below) ?? r.layers![0]!.createdAt ?? '1970-01-01T00:00:00Z' });
    }
  }
  return out;
}
