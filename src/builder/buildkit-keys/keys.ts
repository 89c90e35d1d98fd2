/**
 * BuildKit's cache keys (v0.34) for the ops kiln can describe, as its solver
 * computes them (facts from solver/cachemanager.go rootKey, ops/source.go,
 * ops/exec.go and ops/file.go CacheMap, source/containerimage mainManifestKey):
 *
 *   record digest  = sha256("<op digest>@<output>")                    (rootKey)
 *   image source   = sha256("buildkit.source.v0:" + sha256(json {Digest, OS, Arch, Variant?}))
 *                    Digest: the digest the reference resolves to (an index's, or a manifest's)
 *   exec (RUN)     = sha256(json {Type: "buildkit.exec.v0", Exec: {meta: {args, env, cwd, user?,
 *                    removeMountStubsRecursive: true}}, OS, Arch, Variant?})  (one root mount: left out)
 *   file (WORKDIR) = sha256(json {Type: "buildkit.file.v0", Actions: [base64(json mkdir action)]})
 *   RUN's link to its input carries the selector sha256("/") (the root mount's path); a file op's none.
 *
 * Each digest is sha256 over the bytes, written as `sha256:<hex>`.
 */
import { createHash } from 'node:crypto';
import type { Platform } from '../../oci/types.js';
import { goJson } from './go-json.js';

export const sha256 = (s: string | Buffer): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A cache record's digest: the op's digest and which of its outputs. */
export const rootKey = (opDigest: string, output: number): string => sha256(`${opDigest}@${output}`);

/** OS, Arch and Variant as BuildKit's structs write them (Variant omitted when empty). */
function platformFields(p: Platform): { OS: string; Arch: string; Variant?: string } {
  return { OS: p.os, Arch: p.architecture, ...(p.variant ? { Variant: p.variant } : {}) };
}

/** The image source op's digest: `topDigest` is what the reference resolved to in the registry. */
export function imageSourceDigest(topDigest: string, platform: Platform): string {
  const manifestKey = sha256(goJson({ Digest: topDigest, ...platformFields(platform) }));
  return sha256(`buildkit.source.v0:${manifestKey}`);
}

export interface ExecMeta {
  args: string[];
  env: string[];
  cwd: string;
  user?: string;
}

/** A RUN with only its root mount, sandbox network and security: the exec op's digest. */
export function execDigest(meta: ExecMeta, platform: Platform): string {
  const m = {
    ...(meta.args.length ? { args: meta.args } : {}),
    ...(meta.env.length ? { env: meta.env } : {}),
    ...(meta.cwd ? { cwd: meta.cwd } : {}),
    ...(meta.user ? { user: meta.user } : {}),
    removeMountStubsRecursive: true,
  };
  return sha256(goJson({ Type: 'buildkit.exec.v0', Exec: { meta: m }, ...platformFields(platform) }));
}

/** The selector on an exec's link to its root mount's input: the mount's path, "/". */
export const ROOT_SELECTOR = sha256('/');

/**
 * WORKDIR's file op: one mkdir of `path` (0755, parents, no owner); its time
 * -1, or under SOURCE_DATE_EPOCH the epoch in nanoseconds (an int64, written whole).
 */
export function mkdirDigest(path: string, epoch?: number): string {
  const ts = epoch === undefined ? '-1' : (BigInt(epoch) * 1_000_000_000n).toString();
  const action = goJson({ path, mode: 0o755, makeParents: true, timestamp: 0 }).replace(/"timestamp":0}$/, `"timestamp":${ts}}`);
  return sha256(goJson({ Type: 'buildkit.file.v0', Actions: [Buffer.from(action).toString('base64')] }));
}

/** A chain name's parts: the record digest and the chain names of its inputs, each with its link's selector. */
export interface ChainParts {
  digest: string;
  inputs: { chain: string; selector?: string }[];
}

/**
 * The parts of the chain names kiln computed in this process, so a cache config is asked by the chain, not by an
 * enumeration of its records' names (./chains.ts: each two-way link doubles them). Bounded: the oldest names go
 * first (a build computes one a step; a lookup asks names of its own build).
 */
const PARTS = new Map<string, ChainParts>();
const MAX_PARTS = 1 << 16;

/**
 * kiln's name for a record *in its chain*: BuildKit's record digest says what
 * the op is, its links which input records it ran on. `inputs` are the chain
 * names of the records linked (one per input) with the link's selector.
 */
export function chainName(recordDigest: string, inputs: { chain: string; selector?: string }[]): string {
  if (inputs.length === 0) return recordDigest;
  const name = sha256(JSON.stringify([recordDigest, inputs.map((i) => [i.chain, i.selector ?? ''])]));
  if (!PARTS.has(name)) {
    if (PARTS.size >= MAX_PARTS) PARTS.delete(PARTS.keys().next().value!);
    PARTS.set(name, { digest: recordDigest, inputs: inputs.map((i) => ({ chain: i.chain, ...(i.selector ? { selector: i.selector } : {}) })) });
  }
  return name;
}

/** What a chain name kiln computed is made of; undefined for a root record's name (its digest) or a name kiln did not compute. */
export const chainParts = (name: string): ChainParts | undefined => PARTS.get(name);


/**
 * The header part of contenthash's checksum of a regular file (tar header
 * fields, name empty, no user or group names); the checksum is sha256 of this
 * followed by the file's bytes.
 */
export function fileHeader(f: { mode: number; uid: number; gid: number; size: number }): string {
  return `namemode${f.mode & 0o7777}uid${f.uid}gid${f.gid}size${f.size}typeflag0linknameunamegnamedevmajor0devminor0`;
}

/** The root record of a COPY's content (the slow cache key): the checksums of its selectors, as a digest list, output -1. */
export const contentRecord = (checksums: string[]): string => rootKey(sha256(checksums.join('\0')), -1);
