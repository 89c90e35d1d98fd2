// Starts a private containerd (the test harness's: own root, state, socket;
// CRI on, runc, overlayfs), prints its socket, and stops it cleanly (shims,
// mounts, dir) when stdin closes or on SIGTERM.
import { startContainerd } from '../../dist/testing/containerd.js';

const c = await startContainerd();
process.stdout.write(`${c.address}\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await c.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
