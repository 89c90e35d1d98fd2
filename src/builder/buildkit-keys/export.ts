/**
 * `--cache-to` for BuildKit: next to kiln's own records, the records
 * BuildKit's solver looks up, for each exported chain as far as kiln knows its
 * ops (./step.ts): the base image's root record (no result, as BuildKit writes
 * it), then each op's record linked from the one before (with its selector; a
 * COPY also from the root record of its content), its result the layer chain
 * kiln's config already lists after that step. Steps with no op (ENV, CMD,
 * WORKDIR /) are passed over; a step kiln cannot describe ends the chain.
 */
import type { CacheRecord } from '../cache.js';
import type { CacheConfig, CacheInput, CacheRecordJson, ExportChain } from '../cache-config.js';
import type { StepOp } from './stage-chain.js';

export function addBuildkitRecords(config: CacheConfig, chains: ExportChain[], records: Map<string, CacheRecord>, ops: Map<string, StepOp>): void {
  const layers = config.layers ?? [];
  const recs = (config.records ??= []);
  const layerIndex = new Map(layers.map((l, i) => [`${l.blob}/${l.parent ?? 0}`, i]));
  const recIndex = new Map<string, number>();
  const add = (digest: string, inputs: CacheInput[][], top: number, created: string | undefined): number => {
    const id = JSON.stringify([digest, inputs]);
    const known = recIndex.get(id);
    if (known !== undefined) return known;
    const r: CacheRecordJson = { digest, ...(inputs.length ? { inputs } : {}), ...(top >= 0 && created ? { layers: [{ layer: top, createdAt: created }] } : {}) };
    recIndex.set(id, recs.length);
    recs.push(r);
    return recs.length - 1;
  };
  for (const chain of chains) {
    // A stage on scratch ('none': no root record) starts with an op that links no state before.
    const base = ops.get(chain.baseKey);
    if (!base) continue;
    let top = -1;
    for (const l of chain.baseLayers) top = layerIndex.get(`${l.descriptor.digest}/${top}`) ?? -2;
    if (top === -2) continue;
    let rec = base === 'none' ? -1 : add(base.record, [], -1, undefined);
    for (const key of chain.steps) {
      const r = records.get(key);
      if (!r) break;
      if (r.layer) {
        top = layerIndex.get(`${r.layer.descriptor.digest}/${top}`) ?? -2;
        if (top === -2) break;
      }
      const op = ops.get(key);
      if (op === undefined || op === 'none') continue;
      if (op === null || (rec < 0) !== (op.noParent === true)) break;
      const inputs: CacheInput[][] = op.noParent ? [] : [[{ ...(op.selector ? { selector: op.selector } : {}), link: rec }]];
      if (op.content) inputs.push([{ link: add(op.content, [], -1, undefined) }]);
      rec = add(op.record, inputs, top, r.created);
    }
  }
}
