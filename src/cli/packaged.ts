/**
 * Entry of the packaged executable (dist/kiln, bundled by scripts/package.mjs):
 * kiln's CLI, or one of its helper processes when kiln re-runs itself as
 * `kiln __kiln-helper NAME ARGS…` (src/self.ts helperCommand). Each branch is
 * loaded on demand, as the commands are in main.ts.
 */
import { CONTAINERD_LOGGER_COMMAND, HELPER_COMMAND } from '../self.js';

const HELPERS: Record<string, () => Promise<unknown>> = {
  'monitor-main': () => import('../runtime/monitor-main.js'),
  'monitor-entry': () => import('../engine/local/containers/monitor-entry.js'),
  reaper: () => import('../engine/containerd/containers/reaper.js'),
  keeper: () => import('../engine/kube/containers/keeper.js'),
  'run-as': () => import('../executor/run-as.js'),
};

const [first, name] = process.argv.slice(2);
if (first === HELPER_COMMAND && name !== undefined && Object.hasOwn(HELPERS, name)) {
  // The helper reads its own arguments from process.argv.slice(2), as under node.
  process.argv.splice(2, 2);
  void HELPERS[name]!();
} else if (first === CONTAINERD_LOGGER_COMMAND) {
  // The log driver under containerd's shim: `kiln __kiln-containerd-logger LOG`.
  process.argv.splice(2, 1);
  void import('../engine/containerd/containers/logger.js');
} else {
  void import('./main.js');
}
