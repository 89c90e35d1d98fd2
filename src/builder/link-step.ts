/**
 * `COPY --link` / `ADD --link`, as BuildKit: the step's layer is made on an
 * empty root (the base's files are not seen: destination parents are made
 * fresh, WORKDIR still resolves a relative destination), and it is cached under
 * a key without the parent state: the instruction, its sources' hash, the
 * working directory and SOURCE_DATE_EPOCH. After a base change the step is a
 * hit and its layer is put on the new base as it is (rebased: nothing copied,
 * nothing run); the steps after it depend on the new base as usual. A named
 * --chown is resolved in the empty root, so it needs numeric ids; the executor
 * (one in-place root) copies as a plain COPY.
 */
import { invalidArgument } from '../errors.js';
import type { Instruction } from '../dockerfile/index.js';
import { EPOCH_ARG } from './epoch.js';
import { stepLocated } from './step-error.js';
import type { BuildSession } from './session.js';
import { nextKey, type ImageState } from './state.js';

/** The step's base-independent key when it is a COPY/ADD --link that this builder can link; else undefined. */
export function linkedKey(s: BuildSession, inst: Instruction, prev: ImageState, body: string, extra: string): string | undefined {
  if ((inst.kind !== 'copy' && inst.kind !== 'add') || !inst.link || s.deps.runStep) return undefined;
  if (inst.chown !== undefined && !/^\d+(:\d+)?$/.test(inst.chown)) {
    throw stepLocated(invalidArgument(`${inst.kind.toUpperCase()} --link --chown=${inst.chown}: kiln resolves owners of a linked layer without the base image: use numeric ids (--chown=UID:GID)`), inst);
  }
  const epoch = s.opts.sourceDateEpoch !== undefined ? `${EPOCH_ARG}=${s.opts.sourceDateEpoch}` : '';
  return nextKey('link', body, extra, `workdir=${prev.config.config?.WorkingDir ?? ''}`, epoch);
}

/** The state a linked layer is made on: the same config, no layers. */
export const linkBase = (prev: ImageState): ImageState => ({ ...prev, layers: [], config: { ...prev.config, rootfs: { type: 'layers', diff_ids: [] } } });
