import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkStore, collectGarbage, openStore } from './index.js';
import { repoRoot, run, tempDir } from '../testing/store-fixture.js';

const dist = join(repoRoot(), 'dist', 'content');

test('four processes ingest and tag into one store while GC runs', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'store');
  const store = await openStore(root);
  const script = join(dir, 'worker.mjs');
  await writeFile(
    script,
    `import { openStore } from ${JSON.stringify(join(dist, 'index.js'))};
     import { tinyImage, storeImage } from ${JSON.stringify(join(repoRoot(), 'dist', 'testing', 'store-fixture.js'))};
     const n = process.argv[2];
     const store = await openStore(${JSON.stringify(root)});
     for (let i = 0; i < 10; i++) {
       const img = await tinyImage({ files: [{ 'shared.txt': 'same in every image' }, { ['w' + n]: String(i) }] });
       await storeImage(store, img, 'localhost/worker' + n + ':' + i);
       await store.refs.set('localhost/shared:latest', img.manifest);
     }
     await store.close();`,
  );
  const workers = [0, 1, 2, 3].map((n) => run(process.execPath, [script, String(n)]));
  let gcRuns = 0;
  let done = false;
  const all = Promise.all(workers).finally(() => (done = true));
  while (!done) {
    await collectGarbage(store);
    gcRuns++;
    await sleep(20);
  }
  for (const r of await all) assert.deepEqual([r.code, r.stderr], [0, '']);
  assert.ok(gcRuns > 1, `GC ran ${gcRuns} times`);

  const refs = await store.refs.list();
  assert.equal(refs.length, 4 * 10 + 1);
  assert.equal(new Set(refs.map((r) => r.name)).size, refs.length);
  // Every tag reaches complete, verified content, and nothing is left over.
  assert.deepEqual(await checkStore(store), []);
  const gc = await collectGarbage(store);
  assert.deepEqual(gc.removed, []);
  assert.deepEqual(gc.leasesRemoved, []);
});
