/**
 * The chain name (keys.ts chainName) BuildKit's records would have for kiln's
 * state after a step, for the steps whose LLB kiln knows exactly what
 * BuildKit's Dockerfile frontend makes of them; undefined for the others (the
 * chain stops there, and later steps match only kiln's own keys):
 *
 *   FROM image   the image source with the digest the reference resolved to and the platform
 *   RUN          a shell or exec form with no --mount, default network, no --add-host, no heredoc,
 *                no proxy build args (BuildKit keeps those out of the env), no SOURCE_DATE_EPOCH
 *   WORKDIR      a mkdir of the absolute directory (none for "/"), when no USER is set
 *
 * COPY/ADD are not yet computed: BuildKit keys them by its contenthash
 * checksums of the sources (see README.md in this folder).
 */
import type { Platform } from '../../oci/types.js';
import { chainName, execDigest, imageSourceDigest, mkdirDigest, rootKey, ROOT_SELECTOR, type ExecMeta } from './keys.js';

export function baseChain(topDigest: string, platform: Platform): string {
  return chainName(rootKey(imageSourceDigest(topDigest, platform), 0), []);
}

export function runChain(parent: string, meta: ExecMeta, platform: Platform): string {
  return chainName(rootKey(execDigest(meta, platform), 0), [{ chain: parent, selector: ROOT_SELECTOR }]);
}

/** `dir` as WORKDIR left it (absolute); "/" makes no op: the chain is the parent's. */
export function workdirChain(parent: string, dir: string): string {
  if (dir === '/') return parent;
  return chainName(rootKey(mkdirDigest(dir), 0), [{ chain: parent }]);
}
