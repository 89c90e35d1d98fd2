/** The LayeredSnapshotter suite on kiln's own overlay snapshots (containerd's runs in src/engine/containerd/snapshotter.test.ts). */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { overlaySnapshotter } from './overlay.js';
import { snapshotterSuite } from './testsuite.js';

snapshotterSuite('overlay', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kiln-overlay-suite-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return {
    snapshotter: overlaySnapshotter(root, { recordOwner: true }),
    layer: async (file, chainId) => ({ chainId, open: async () => createReadStream(file) }),
    mountsUnder: path.join(root, 'mounts'),
    kind: 'overlay',
  };
});
