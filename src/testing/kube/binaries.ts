/**
 * Where the test cluster's executables are: $KILN_TEST_KUBE_DIR, or the cache
 * directory scripts/kube-build.sh built (asked with --cached: a test never
 * starts the 25-45 minute first build; scripts/test.sh runs it in setup).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../root.js';

const run = promisify(execFile);

export interface KubeBinaries {
  dir: string;
  /** The multi-call executable: `kube etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kubelet|kube-proxy|kubectl …`. */
  kube: string;
  /** The static pod sandbox process for the pause image. */
  pause: string;
}

let found: Promise<KubeBinaries> | undefined;

export function kubeBinaries(): Promise<KubeBinaries> {
  found ??= (async () => {
    let dir = process.env.KILN_TEST_KUBE_DIR;
    if (!dir) {
      try {
        dir = (await run('bash', [path.join(repoRoot(), 'scripts', 'kube-build.sh'), '--cached'])).stdout.trim();
      } catch (e) {
        found = undefined;
        throw new Error((e as { stderr?: string }).stderr?.trim() || (e as Error).message);
      }
    }
    return { dir, kube: path.join(dir, 'kube'), pause: path.join(dir, 'pause') };
  })();
  return found;
}
