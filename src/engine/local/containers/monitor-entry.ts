/**
 * The detached monitor of a local container: `node monitor-entry.js ROOT ID`.
 * Runs the container to its end (runtime's monitorContainer: CRI log, exit
 * record), then what kiln does after an exit (die event, network, --rm).
 */
import { monitorContainer } from '../../../runtime/index.js';
import { containerContext } from './context.js';
import { afterExit } from './teardown.js';

const [root, id] = process.argv.slice(2);
if (root === undefined || id === undefined) {
  process.stderr.write('usage: monitor-entry.js ROOT ID\n');
  process.exit(2);
}
// The CLI may be gone: a closed terminal must not end the container's monitor.
process.on('SIGHUP', () => undefined);
const ctx = containerContext(root);
// No top-level await: the packaged executable bundles this file as CommonJS (src/cli/packaged.ts).
void (async () => {
  const state = await monitorContainer(ctx.stateDir, id);
  process.stdout.write(`${new Date().toISOString()} container ${id} exited with ${state.exitCode}${state.error ? `: ${state.error}` : ''}\n`);
  await afterExit(ctx, id);
})();
