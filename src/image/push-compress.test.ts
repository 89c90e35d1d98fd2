import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { openStore } from '../content/layout.js';
import { collectGarbage } from '../content/gc.js';
import { MediaType } from '../oci/mediatypes.js';
import { createRegistryClient } from '../registry/client.js';
import { startRegistry } from '../testing/registry.js';
import { readAll } from '../testing/blobs.js';
import { sha256, storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';
import { layoutImageStore } from './layout-store.js';
import { pushImage } from './push.js';

const noCreds = { get: async () => undefined };

test('push sends stored uncompressed layers gzip-compressed, same config; a second push compresses nothing; gc keeps the forms with their layers', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  const stores = layoutImageStore(store, { rememberCompressed: true });
  const img = await tinyImage({ files: [{ 'a.txt': 'one\n' }, { 'b.txt': 'two\n'.repeat(1000) }] });
  const name = `${reg.host}/t/app:1`;
  await storeImage(store, img, name);
  const client = createRegistryClient({ credentials: noCreds, registries: {} });

  const first = await pushImage(stores, client, name);
  const repo = client.repository(reg.host, 't/app', ['pull']);
  const { descriptor, bytes } = await repo.getManifest('1');
  assert.equal(descriptor.digest, first.digest);
  assert.notEqual(first.digest, img.manifest.digest); // the pushed manifest names the gzip forms
  const pushed = JSON.parse(bytes.toString()) as { config: { digest: string }; layers: { mediaType: string; digest: string; size: number }[] };
  assert.equal(pushed.config.digest, img.config.digest); // same config: same image ID
  assert.deepEqual(pushed.layers.map((l) => l.mediaType), [MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
  for (const [i, l] of pushed.layers.entries()) {
    const blob = await readAll(await repo.getBlob(l.digest));
    assert.equal(blob.length, l.size);
    assert.equal(sha256(gunzipSync(blob)), img.layers[i]!.digest); // the stored tar, compressed
  }

  // Pushed again elsewhere: the recorded forms are used, nothing new is written to the store.
  const blobsBefore = (await readdir(join(store.root, 'blobs', 'sha256'))).sort();
  await store.refs.set(`${reg.host}/t/other:2`, img.manifest);
  const second = await pushImage(stores, client, `${reg.host}/t/other:2`);
  assert.equal(second.digest, first.digest);
  assert.deepEqual((await readdir(join(store.root, 'blobs', 'sha256'))).sort(), blobsBefore);

  // GC keeps the forms while their layers are kept, and drops them (and their records) with the layers.
  await collectGarbage(store);
  for (const l of pushed.layers) assert.notEqual(await store.content.stat(l.digest), undefined);
  await store.refs.delete(name);
  await store.refs.delete(`${reg.host}/t/other:2`);
  await store.close(); // this process's lease held what it wrote
  const reopened = await openStore(store.root);
  t.after(() => reopened.close());
  await collectGarbage(reopened);
  for (const l of [...img.layers, ...pushed.layers]) assert.equal(await store.content.stat(l.digest), undefined);
  assert.deepEqual(await readdir(join(store.root, 'compressed', 'gzip')), []);
});

test('push leaves an image whose layers are already compressed as it is stored', async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.stop());
  const store = await openStore(await tempDir(t));
  t.after(() => store.close());
  const stores = layoutImageStore(store, { rememberCompressed: true });
  const img = await tinyImage({ gzip: true });
  await storeImage(store, img, `${reg.host}/t/gz:1`);
  const r = await pushImage(stores, createRegistryClient({ credentials: noCreds, registries: {} }), `${reg.host}/t/gz:1`);
  assert.equal(r.digest, img.manifest.digest);
});
