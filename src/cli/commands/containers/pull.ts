/**
 * run/create's --pull, with docker's lines on stderr: `Unable to find image
 * 'X' locally`, then (once the registry answers) `TAG: Pulling from REPO`,
 * the pull's progress, and the digest and status lines.
 */
import type { CreateOptions, PullPolicy } from '../../../engine/containers.js';
import { parsePlatform } from '../../../oci/platform.js';
import type { ProgressEvent } from '../../../image/progress.js';
import { createProgress } from '../../progress.js';
import { familiarName, pullReport } from '../../pull-report.js';

export function createOptions(policy: string, platform?: string): CreateOptions & { done(): void } {
  const err = process.stderr;
  const bars = createProgress(err);
  const report = pullReport(err);
  let reference: string | undefined;
  const header = () => {
    if (reference === undefined) return;
    report.start(reference);
    reference = undefined;
  };
  return {
    pull: policy as PullPolicy,
    ...(platform ? { platform: parsePlatform(platform) } : {}),
    progress: {
      emit(e: ProgressEvent) {
        header();
        bars.emit(e);
      },
    },
    onPull: {
      start(ref, missing) {
        if (missing) err.write(`Unable to find image '${familiarName(ref)}' locally\n`);
        reference = ref;
      },
      done(result) {
        header();
        bars.done();
        report.done(result);
      },
    },
    done: () => bars.done(),
  };
}
