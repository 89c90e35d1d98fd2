/**
 * A BuildKit cache config read as chains: BuildKit's record digests name an
 * op (the same RUN on two bases is one digest), its `inputs` name the records
 * the op ran on. kiln names each record in its chain (keys.ts chainName: the
 * digest with the chain names of one link per input and their selectors) and
 * answers, for each name, the record's result (top layer and the chain
 * beneath it): what `kiln build` asks with the chain name it computes for a
 * step (./step.ts), and checks against its state (./stage-chain.ts).
 */
import { invalidArgument } from '../../errors.js';
import type { Descriptor } from '../../oci/types.js';
import { UNCOMPRESSED, type CacheConfig, type CacheLayer, type CacheRecordJson, type DecodedStep } from '../cache-config.js';
import { chainName } from './keys.js';
import { rootLayers } from './root-results.js';

/**
 * Chain names per record are bounded: a record linked from many (a fan-in of fan-ins) is cut at this many. Each
 * step whose input BuildKit links two ways (an ADD of a URL, a heredoc, a --from: its source's record with a
 * selector, and the content's) doubles the names of every record after it: at 64 the 7th such step of a stage lost
 * the name kiln asks for (buildkit-copy-sources-hit.test.ts, its COPY --link after six).
 */
const MAX_NAMES = 1024;

/** An input's links, those without a selector (a content record: the name kiln computes for a URL, heredoc or context) first, so a cut keeps them. */
const contentFirst = <T extends { selector?: string }>(links: T[]): T[] => [...links.filter((l) => !l?.selector), ...links.filter((l) => l?.selector)];

/** A record's result: its top layer, with the diff IDs of the chain beneath it. */
export type BuildkitStep = DecodedStep & { below?: string[] };

export function decodeBuildkitChains(config: CacheConfig, blobs: Map<string, Descriptor>, where: string): Map<string, BuildkitStep> {
  const records = config.records ?? [];
  if (!Array.isArray(records) || !Array.isArray(config.layers ?? [])) throw invalidArgument(`${where}: not a BuildKit cache config (layers and records must be arrays)`);
  const names = new Map<number, { name: string; parent?: number }[]>();
  const visiting = new Set<number>();
  const namesOf = (i: number): { name: string; parent?: number }[] => {
    const known = names.get(i);
    if (known) return known;
    const r = records[i];
    if (typeof r?.digest !== 'string' || visiting.has(i)) return [];
    visiting.add(i);
    let combos: { inputs: { chain: string; selector?: string }[]; parent?: number }[] = [{ inputs: [] }];
    for (const links of r.inputs ?? []) {
      const next: typeof combos = [];
      for (const c of combos) {
        for (const l of Array.isArray(links) ? contentFirst(links) : []) {
          if (!Number.isInteger(l?.link)) continue;
          for (const p of namesOf(l.link)) {
            if (next.length >= MAX_NAMES) break;
            next.push({ inputs: [...c.inputs, { chain: p.name, ...(l.selector ? { selector: l.selector } : {}) }], parent: c.parent ?? l.link });
          }
        }
      }
      combos = next;
    }
    visiting.delete(i);
    const out = combos.map((c) => ({ name: chainName(r.digest, c.inputs), ...(c.parent !== undefined ? { parent: c.parent } : {}) }));
    names.set(i, out);
    return out;
  };
  const steps = new Map<string, BuildkitStep>();
  const roots = rootLayers(config, (i) => blobs.get(config.layers?.[i]?.blob ?? '')?.annotations?.['buildkit/createdat']);
  records.forEach((r, i) => {
    const root = roots.get(i);
    const st = result(config, blobs, root ? { ...r, layers: [root] } : r);
    if (!st) return;
    for (const { name, parent } of namesOf(i)) if (parent !== undefined || root) steps.set(name, st);
  });
  return steps;
}

/**
 * A record's result as a step: its top layer and the diff IDs beneath it (a
 * root record, the base image, often has no result in the config, so the
 * step's parent chain is checked against kiln's state, ./stage-chain.ts).
 */
function result(config: CacheConfig, blobs: Map<string, Descriptor>, r: CacheRecordJson): BuildkitStep | undefined {
  const layers = config.layers ?? [];
  const top = r.layers?.[0]?.layer;
  if (top === undefined || !Number.isInteger(top) || top < 0 || top >= layers.length) return undefined;
  const chain: { descriptor: Descriptor; diffId: string }[] = [];
  for (let i: number | undefined = top, n = 0; i !== undefined && i >= 0; n++) {
    const l: CacheLayer | undefined = layers[i];
    const desc = l && blobs.get(l.blob);
    const diffId = l?.annotations?.diffID ?? desc?.annotations?.[UNCOMPRESSED];
    if (!l || !desc || !diffId || n > layers.length) return undefined;
    chain.unshift({ descriptor: { mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, diffId });
    // Go omits a parent of 0 (omitempty): absent means 0.
    i = l.parent ?? 0;
  }
  const layer = chain.pop()!;
  return { created: r.layers![0]!.createdAt ?? '1970-01-01T00:00:00Z', layer, below: chain.map((c) => c.diffId) };
}
