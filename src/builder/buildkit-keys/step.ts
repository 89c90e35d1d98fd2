/**
 * BuildKit's ops for kiln's steps, and the chain names (keys.ts chainName)
 * their records have: an op is its record digest and how it links the state
 * before it (the selector on that link, and for a COPY the root record of its
 * content). Which steps are described, and when, is ./stage-chain.ts.
 */
import type { Platform } from '../../oci/types.js';
import { chainName, execDigest, imageSourceDigest, mkdirDigest, rootKey, ROOT_SELECTOR, type ExecMeta } from './keys.js';

export interface BuildkitOp {
  /** The record digest (keys.ts rootKey of the op's digest, output 0). */
  record: string;
  /** The selector on the link to the state before. */
  selector?: string;
  /** A COPY's second input: the root record of its content checksum. */
  content?: string;
  /** The op ran on scratch: its record links no state before (./scratch-chain.ts). */
  noParent?: true;
  /** A COPY --from's second input: the other stage's (or image's) chain, with the sources' selector. */
  from?: FromLink;
  /**
   * COPY --link: `record` is BuildKit's merge of the state before and this
   * copy onto scratch, whose own record is linked from its content (or --from
   * state) alone.
   */
  onScratch?: { record: string; content?: string; from?: FromLink; inputs?: InputLink[] };
  /**
   * An exec (RUN) with more than one input besides the state before (binds of the context, of stages or images,
   * an owned cache mount, a `#!` heredoc): each input's link, in BuildKit's input order; `content` and `from` unused.
   */
  inputs?: InputLink[];
}

/** One input of an op linked by its content's root record, or by another stage's (or image's) chain with a selector. */
export type InputLink = { content: string } | { from: FromLink };

export interface FromLink {
  chain: string;
  selector: string;
  /** An image's root record (no inputs), not a stage's record. */
  root: boolean;
}

/** A COPY's links to its sources: the content's root record, or the --from state's chain with its selector. */
const sourceLinks = (o: { content?: string; from?: FromLink; inputs?: InputLink[] }) =>
  o.inputs ? o.inputs.map((i) => ('content' in i ? { chain: i.content } : { chain: i.from.chain, selector: i.from.selector })) : [...(o.content ? [{ chain: o.content }] : []), ...(o.from ? [{ chain: o.from.chain, selector: o.from.selector }] : [])];

/**
 * A scratch stage's chain before its first op: no record. BuildKit's first op
 * there (a COPY onto scratch, ./copy-chain.ts) links only its sources.
 */
export const SCRATCH_CHAIN = 'scratch';

/** The chain name of the state `op` makes on `parent`. */
export function opChain(parent: string, op: BuildkitOp): string {
  if (parent === SCRATCH_CHAIN || op.noParent) return chainName(op.record, sourceLinks(op));
  if (op.onScratch) return chainName(op.record, [{ chain: parent }, { chain: chainName(op.onScratch.record, sourceLinks(op.onScratch)) }]);
  return chainName(op.record, [{ chain: parent, ...(op.selector ? { selector: op.selector } : {}) }, ...sourceLinks(op)]);
}

/** The base image's root record (also its chain name). */
export function baseChain(topDigest: string, platform: Platform): string {
  return chainName(rootKey(imageSourceDigest(topDigest, platform), 0), []);
}

export function runOp(meta: ExecMeta, platform: Platform): BuildkitOp {
  return { record: rootKey(execDigest(meta, platform), 0), selector: ROOT_SELECTOR };
}

export const runChain = (parent: string, meta: ExecMeta, platform: Platform): string => opChain(parent, runOp(meta, platform));

/** `dir` as WORKDIR left it (absolute); "/" makes no op (undefined: the chain stays the parent's). `epoch`: SOURCE_DATE_EPOCH. */
export function workdirOp(dir: string, epoch?: number): BuildkitOp | undefined {
  return dir === '/' ? undefined : { record: rootKey(mkdirDigest(dir, epoch), 0) };
}

export function workdirChain(parent: string, dir: string, epoch?: number): string {
  const op = workdirOp(dir, epoch);
  return op ? opChain(parent, op) : parent;
}
