/** Entry of the detached monitor process: `node monitor-main.js STATE_DIR ID [RUNC]`. */
import { monitorContainer } from './monitor.js';

const [stateDir, id, runcBinary] = process.argv.slice(2);
if (stateDir === undefined || id === undefined) {
  process.stderr.write('usage: monitor-main.js STATE_DIR ID [RUNC]\n');
  process.exit(2);
}
// The CLI may be gone: a closed terminal must not end the container's monitor.
process.on('SIGHUP', () => undefined);
// No top-level await: the packaged executable bundles this file as CommonJS (src/cli/packaged.ts).
void monitorContainer(stateDir, id, runcBinary ? { runcBinary } : {}).then((state) => {
  process.stdout.write(`${new Date().toISOString()} container ${id} exited with ${state.exitCode}${state.error ? `: ${state.error}` : ''}\n`);
});
