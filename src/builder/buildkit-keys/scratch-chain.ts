/**
 * `FROM scratch` as BuildKit keys it: scratch is no op and no record, so a
 * stage on scratch has a chain name that stands for "nothing yet"
 * (SCRATCH_CHAIN, never a record's name), and the stage's first file op
 * carries its indexes (copy-action.ts: `[[-1,0,0]]` for a copy, `[[-1,-1,0]]`
 * for a mkdir) and links no state before (step.ts `noParent`): a mkdir's
 * record is then a root record, a copy's links its content only. A RUN on
 * scratch is named by run-step.ts (its root mount has no input).
 */
import { goJson } from './go-json.js';
import { rootKey } from './keys.js';
import { chownOf, fileOpDigest, type ChownJson } from './copy-action.js';
import { SCRATCH_CHAIN, workdirOp, type BuildkitOp } from './step.js';

export { SCRATCH_CHAIN };

/**
 * WORKDIR's mkdir (0755, parents), with the owner USER set (if any), on the state before or on scratch (indexes
 * `[[-1,-1,0]]`); its time -1, or under SOURCE_DATE_EPOCH the epoch in nanoseconds (an int64, written whole).
 */
export function mkdirOpDigest(path: string, owner: ChownJson | undefined, onScratch: boolean, epoch?: number): string {
  const ts = epoch === undefined ? '-1' : (BigInt(epoch) * 1_000_000_000n).toString();
  const action = goJson({ path, mode: 0o755, makeParents: true, ...(owner ? { owner } : {}), timestamp: 0 }).replace(/"timestamp":0}$/, `"timestamp":${ts}}`);
  return fileOpDigest([action], [[onScratch ? -1 : 0, -1, 0]]);
}

export const onScratch = (chain: string | undefined): boolean => chain === SCRATCH_CHAIN;

/**
 * WORKDIR `dir` (absolute) under `user` (the stage's USER, may be empty) on
 * the state before, or on scratch, `epoch` SOURCE_DATE_EPOCH: BuildKit's mkdir; `{}` for "/" (no op);
 * undefined when kiln cannot say (an owner by name on scratch, which BuildKit
 * rejects, or a user string llb would read otherwise).
 */
export function workdirOpAs(dir: string, user: string, scratch: boolean, epoch?: number): { op?: BuildkitOp } | undefined {
  if (dir === '/') return {};
  if (!user && !scratch) return { op: workdirOp(dir, epoch)! };
  const owner = user ? chownOf(user) : undefined;
  if (user && (!owner || (scratch && (owner.user?.User.byName || owner.group?.User.byName)))) return undefined;
  return { op: { record: rootKey(mkdirOpDigest(dir, owner, scratch, epoch), 0), ...(scratch ? { noParent: true as const } : {}) } };
}
