/**
 * A BuildKit cache config read as chains: BuildKit's record digests name an
 * op (the same RUN on two bases is one digest), its `inputs` name the records
 * the op ran on. kiln names a record in its chain (keys.ts chainName: the
 * digest with the chain names of one link per input and their selectors) and
 * asks, with the chain name it computes for a step (./step.ts), for the
 * record's result (top layer and the chain beneath it), checked against its
 * state (./stage-chain.ts). The name is resolved on demand from its parts
 * (keys.ts chainParts): the records of its digest whose every input has a
 * link with its selector to a record the input's own name resolves to. No
 * enumeration of a record's names: each step BuildKit links two ways (a URL,
 * a heredoc, a --from: its source's record with a selector, and the
 * content's) doubles them, and a bound on them cut the names of later steps.
 */
import { invalidArgument } from '../../errors.js';
import type { Descriptor } from '../../oci/types.js';
import { UNCOMPRESSED, type CacheConfig, type CacheLayer, type CacheRecordJson, type DecodedStep, type StepLookup } from '../cache-config.js';
import { chainParts } from './keys.js';
import { rootLayers } from './root-results.js';

/** A record's result: its top layer, with the diff IDs of the chain beneath it. */
export type BuildkitStep = DecodedStep & { below?: string[] };

export function decodeBuildkitChains(config: CacheConfig, blobs: Map<string, Descriptor>, where: string): StepLookup<BuildkitStep> {
  const records = config.records ?? [];
  if (!Array.isArray(records) || !Array.isArray(config.layers ?? [])) throw invalidArgument(`${where}: not a BuildKit cache config (layers and records must be arrays)`);
  const byDigest = new Map<string, number[]>();
  records.forEach((r, i) => {
    if (typeof r?.digest === 'string') byDigest.set(r.digest, [...(byDigest.get(r.digest) ?? []), i]);
  });
  const roots = rootLayers(config, (i) => blobs.get(config.layers?.[i]?.blob ?? '')?.annotations?.['buildkit/createdat']);
  const resolved = new Map<string, Set<number>>();
  /** The records a chain name names: a root record by its digest, any other by its parts. */
  const recordsOf = (name: string): Set<number> => {
    const known = resolved.get(name);
    if (known) return known;
    const parts = chainParts(name);
    const out = new Set<number>();
    for (const i of byDigest.get(parts?.digest ?? name) ?? []) {
      const inputs = Array.isArray(records[i]!.inputs) ? records[i]!.inputs! : [];
      if (inputs.length !== (parts?.inputs.length ?? 0)) continue;
      const linked = parts?.inputs.every((want, j) => {
        const links = Array.isArray(inputs[j]) ? inputs[j]! : [];
        return links.some((l) => Number.isInteger(l?.link) && (l.selector ?? '') === (want.selector ?? '') && recordsOf(want.chain).has(l.link));
      });
      if (linked !== false) out.add(i);
    }
    resolved.set(name, out);
    return out;
  };
  return {
    get(name: string): BuildkitStep | undefined {
      const linked = chainParts(name) !== undefined;
      for (const i of recordsOf(name)) {
        const root = roots.get(i);
        // A root record's result is the base image's unless root-results.ts found the op's own.
        if (!linked && !root) continue;
        const st = result(config, blobs, root ? { ...records[i]!, layers: [root] } : records[i]!);
        if (st) return st;
      }
      return undefined;
    },
  };
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
