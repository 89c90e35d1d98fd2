/**
 * `--cache-to` for BuildKit: next to kiln's own records, the records
 * BuildKit's solver looks up, for each exported chain as far as kiln knows its
 * ops (./step.ts): the base image's root record (no result, as BuildKit writes
 * it), then each op's record linked from the one before (with its selector; a
 * COPY also from the root record of its content, a COPY --from from the other
 * stage's record or the image's root record; a COPY --link is BuildKit's merge
 * of the state before and the copy onto scratch), its result the layer chain
 * kiln's config already lists after that step. Steps with no op (ENV, CMD,
 * WORKDIR /) are passed over; a step kiln cannot describe ends the chain.
 */
import type { CacheRecord } from '../cache.js';
import type { CacheConfig, CacheInput, CacheRecordJson, ExportChain } from '../cache-config.js';
import type { StepOp } from './stage-chain.js';
import { opChain, SCRATCH_CHAIN, type FromLink } from './step.js';

export function addBuildkitRecords(config: CacheConfig, chains: ExportChain[], records: Map<string, CacheRecord>, ops: Map<string, StepOp>): void {
  const layers = config.layers ?? [];
  const recs = (config.records ??= []);
  const layerIndex = new Map(layers.map((l, i) => [`${l.blob}/${l.parent ?? 0}`, i]));
  const recIndex = new Map<string, number>();
  /** Each written record's chain name (./step.ts opChain), for the COPY --from links to it. */
  const byChain = new Map<string, number>();
  const add = (digest: string, inputs: CacheInput[][], top: number, created: string | undefined): number => {
    const id = JSON.stringify([digest, inputs]);
    const known = recIndex.get(id);
    if (known !== undefined) return known;
    const r: CacheRecordJson = { digest, ...(inputs.length ? { inputs } : {}), ...(top >= 0 && created ? { layers: [{ layer: top, createdAt: created }] } : {}) };
    recIndex.set(id, recs.length);
    recs.push(r);
    return recs.length - 1;
  };
  /** A COPY's source links: its content's root record, or the --from stage's record (written by its own chain, earlier) or image's root record. */
  const sourceInputs = (o: { content?: string; from?: FromLink }): CacheInput[] | undefined => {
    if (o.content) return [{ link: add(o.content, [], -1, undefined) }];
    if (!o.from) return [];
    const from = byChain.get(o.from.chain) ?? (o.from.root ? add(o.from.chain, [], -1, undefined) : undefined);
    return from === undefined ? undefined : [{ selector: o.from.selector, link: from }];
  };
  for (const chain of chains) {
    const base = ops.get(chain.baseKey);
    if (!base || base === 'none') continue;
    let top = -1;
    for (const l of chain.baseLayers) top = layerIndex.get(`${l.descriptor.digest}/${top}`) ?? -2;
    if (top === -2) continue;
    // A scratch stage has no base record: its first op links no state before (a copy its sources alone, a mkdir nothing).
    let rec = base.record === SCRATCH_CHAIN ? -1 : add(base.record, [], -1, undefined);
    let name = base.record;
    if (rec >= 0) byChain.set(name, rec);
    for (const key of chain.steps) {
      const r = records.get(key);
      if (!r) break;
      if (r.layer) {
        top = layerIndex.get(`${r.layer.descriptor.digest}/${top}`) ?? -2;
        if (top === -2) break;
      }
      const op = ops.get(key);
      if (op === undefined || op === 'none') continue;
      if (op === null) break;
      // Each input's links after the state before (a RUN's binds and mounts: ./step.ts InputLink), else the one of a COPY's sources.
      const src = op.onScratch ?? op;
      const each = src.inputs ? src.inputs.map((i) => sourceInputs(i)) : [sourceInputs(src)];
      if (each.some((x) => x === undefined)) break;
      const sourceLists = (each as CacheInput[][]).filter((x) => x.length);
      const sources = sourceLists[0] ?? [];
      // On scratch only an op that links no state before (a copy of its sources, a mkdir or RUN marked noParent) has a record; noParent never elsewhere.
      if (rec < 0 ? op.onScratch !== undefined || !(sources.length || op.noParent) : op.noParent === true) break;
      const inputs: CacheInput[][] = rec < 0 ? [] : [[{ ...(op.selector ? { selector: op.selector } : {}), link: rec }]];
      // COPY --link: the merge's second input is the copy onto scratch (no result of its own, as the base's root record).
      if (op.onScratch) inputs.push([{ link: add(op.onScratch.record, sourceLists.length ? sourceLists : [sources], -1, undefined) }]);
      else inputs.push(...sourceLists);
      rec = add(op.record, inputs, top, r.created);
      name = opChain(name, op);
      byChain.set(name, rec);
    }
  }
}
