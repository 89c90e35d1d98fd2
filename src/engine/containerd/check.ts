/** `system check` on containerd: every named image's manifest, config and layers are present in the content store. */
import type { CheckProblem } from '../engine.js';
import { isKilnError } from '../../errors.js';
import type { ContainerdContentStore } from './content.js';
import type { ContainerdRefStore } from './refs.js';
import { resolveTarget } from '../../image/platform-image.js';

export async function checkImages(content: ContainerdContentStore, refs: ContainerdRefStore): Promise<CheckProblem[]> {
  const problems: CheckProblem[] = [];
  for (const ref of await refs.list()) {
    try {
      const manifest = (await resolveTarget(content, ref.descriptor, ref.name)).manifest.parsed;
      for (const b of [manifest.config, ...manifest.layers]) {
        const have = await content.stat(b.digest);
        if (!have) problems.push({ kind: 'missing-blob', subject: ref.name, message: `${b.digest} is not in containerd's content store` });
        else if (have.size !== b.size) problems.push({ kind: 'size-mismatch', subject: ref.name, message: `${b.digest} is ${have.size} bytes, the manifest says ${b.size}` });
      }
    } catch (e) {
      if (!isKilnError(e)) throw e;
      problems.push({ kind: 'unreadable-manifest', subject: ref.name, message: e.message });
    }
  }
  return problems;
}
