/**
 * SOURCE_DATE_EPOCH for a build, as BuildKit takes it: the build arg
 * (`--build-arg SOURCE_DATE_EPOCH=N`) first, then the CLI's environment (which
 * `kiln build` passes as `sourceDateEpoch`, as buildx does), then a default
 * the Dockerfile gives in a global `ARG SOURCE_DATE_EPOCH=N`.
 * It sets the `created` of the image config and of the new history entries,
 * clamps file times in new layers, and is part of every step's cache key.
 */
import { invalidArgument } from '../errors.js';
import type { BuildPlan } from '../dockerfile/index.js';

export const EPOCH_ARG = 'SOURCE_DATE_EPOCH';

/** A number of seconds, or an error naming where the value came from. */
export function parseEpoch(value: string, where: string): number {
  if (!/^\d+$/.test(value.trim())) {
    throw invalidArgument(`${where}: SOURCE_DATE_EPOCH="${value}" is not a number of seconds`, { hint: 'set it to a Unix time, e.g. $(git log -1 --format=%ct)' });
  }
  return Number(value.trim());
}

/** The epoch from the build arg or the CLI's environment, before the Dockerfile is read. */
export function requestedEpoch(buildArgs: Record<string, string> | undefined, fromEnv: number | undefined): number | undefined {
  const arg = buildArgs?.[EPOCH_ARG];
  if (arg !== undefined && arg !== '') return parseEpoch(arg, '--build-arg');
  return fromEnv;
}

/** The Dockerfile's own default (`ARG SOURCE_DATE_EPOCH=N` before the first FROM), when nothing was requested. */
export function dockerfileEpoch(plan: BuildPlan): number | undefined {
  const v = plan.metaArgs.find((a) => a.key === EPOCH_ARG)?.value;
  return v === undefined || v === '' ? undefined : parseEpoch(v, `${plan.file}: ARG ${EPOCH_ARG}`);
}

/** RFC 3339 in whole seconds, as BuildKit writes it: `2023-11-14T22:13:20Z`. */
export const epochTime = (epoch: number): string => new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

/** The config's `created`, never later than the epoch (BuildKit clamps it the same way). */
export function clampCreated(created: string | undefined, epoch: number): string {
  const at = epochTime(epoch);
  return created === undefined || Date.parse(created) > epoch * 1000 ? at : created;
}
