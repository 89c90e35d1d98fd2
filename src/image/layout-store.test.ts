import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../content/layout.js';
import type { LayeredSnapshotter } from '../snapshot/snapshotter.js';
import { tempDir } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';

test('the store given a snapshotter hands it to its leased views (the executor builds on its in-place one under the lease)', async (t) => {
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  const own = {} as LayeredSnapshotter;
  const stores = layoutImageStore(store, { snapshotter: () => own });
  assert.equal(stores.snapshotter?.(), own);
  const leased = await stores.withLease(async (view) => ({ snapshotter: view.snapshotter?.(), compressed: view.compressedForms }));
  assert.equal(leased.snapshotter, own);
  assert.equal(leased.compressed, undefined); // rememberCompressed off: the one-shot store writes each layer once
  const plain = await layoutImageStore(store).withLease(async (view) => view.snapshotter);
  assert.equal(plain, undefined); // no snapshotter: builds fall back to kiln's overlay snapshots
});
