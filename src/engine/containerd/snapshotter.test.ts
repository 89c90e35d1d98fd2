/** The LayeredSnapshotter suite (src/snapshot/testsuite.ts) on containerd's snapshotter, against a real containerd; each test in a namespace of its own. */
import { after, before } from 'node:test';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { MediaType } from '../../oci/mediatypes.js';
import { snapshotterSuite, type SnapshotterHarness } from '../../snapshot/testsuite.js';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { ContainerdContentStore } from './content.js';
import { ContainerdConnection } from './grpc.js';
import { withLease } from './lease.js';
import { containerdSnapshotter } from './snapshotter.js';

let ctd: TestContainerd;
before(async () => {
  ctd = await startContainerd();
});
after(async () => {
  await ctd?.stop();
});

let namespaces = 0;
snapshotterSuite('containerd', async (t) => {
  const conn = new ContainerdConnection(ctd.address, `kiln-snapshot-suite-${++namespaces}`);
  const work = await tempDir('kiln-ctd-snap-suite-');
  t.after(async () => {
    conn.close();
    await removeDir(work);
  });
  const mounts = path.join(work, 'mounts');
  // over the connection, or (scope) over a view of it under a lease
  const harness = (c: ContainerdConnection): SnapshotterHarness => {
    const content = new ContainerdContentStore(c);
    return {
      snapshotter: containerdSnapshotter({ conn: c, content, snapshotter: 'overlayfs' }, mounts),
      async layer(file, chainId, diffId) {
        const info = await content.ingest(createReadStream(file));
        return { chainId, diffId, descriptor: { mediaType: MediaType.OciLayer, ...info }, open: async () => createReadStream(file) };
      },
      scope: (fn) => withLease(c, (leased) => fn(harness(leased))),
      mountsUnder: mounts,
      kind: 'overlay',
    };
  };
  return harness(conn);
});
