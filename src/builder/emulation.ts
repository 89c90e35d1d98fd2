/**
 * A build for a foreign platform: the stages that RUN something on it need
 * QEMU user emulation (src/runtime/binfmt.ts), registered before the first
 * step when missing, or the build stops at once with one line saying why.
 * Stages `FROM --platform=$BUILDPLATFORM` (cross-compiling) need none.
 */
import type { BuildPlan } from '../dockerfile/index.js';
import { formatPlatform, hostPlatform, normalizePlatform } from '../oci/platform.js';
import type { Platform } from '../oci/types.js';
import { ensureEmulation as register, runsNatively } from '../runtime/binfmt.js';

/** The foreign platforms the plan's RUN steps execute on. */
export function emulatedPlatforms(plan: BuildPlan, target: Platform | undefined): Platform[] {
  const out = new Map<string, Platform>();
  for (const stage of plan.stages) {
    if (!stage.instructions.some((i) => i.kind === 'run')) continue;
    const p = normalizePlatform(stage.platform ?? target ?? hostPlatform());
    if (!runsNatively(p)) out.set(formatPlatform(p), p);
  }
  return [...out.values()];
}

export async function ensureEmulation(plan: BuildPlan, target: Platform | undefined): Promise<void> {
  await register(emulatedPlatforms(plan, target));
}
