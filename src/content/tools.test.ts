import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from './index.js';
import { run, storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';

test('skopeo and umoci read the store as an OCI layout', async (t) => {
  const store = await openStore(await tempDir(t));
  const img = await tinyImage({ gzip: true, files: [{ 'a.txt': 'a\n' }, { 'b.txt': 'b\n' }] });
  await storeImage(store, img, 'docker.io/library/busybox:latest');
  await storeImage(store, await tinyImage(), 'localhost:5000/other:v2');
  await store.close();

  const inspect = await run('skopeo', ['inspect', `oci:${store.root}:docker.io/library/busybox:latest`]);
  assert.equal(inspect.stderr, '');
  const info = JSON.parse(inspect.stdout);
  assert.equal(info.Digest, img.manifest.digest);
  assert.deepEqual(info.Layers, img.layers.map((l) => l.digest));
  assert.equal(info.Architecture, 'amd64');

  const raw = await run('skopeo', ['inspect', '--config', '--raw', `oci:${store.root}:localhost:5000/other:v2`]);
  assert.equal(JSON.parse(raw.stdout).config.Cmd[0], '/hello');

  const ls = await run('umoci', ['ls', '--layout', store.root]);
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['docker.io/library/busybox:latest', 'localhost:5000/other:v2']);

  // umoci can also unpack what the store holds (it verifies every blob on the way).
  const bundle = `${store.root}-bundle`;
  t.after(() => run('rm', ['-rf', bundle]).then(() => undefined));
  const unpack = await run('umoci', ['raw', 'unpack', '--rootless', '--image', `${store.root}:docker.io/library/busybox:latest`, bundle]);
  assert.equal(unpack.code, 0, unpack.stderr);
  const cat = await run('cat', [`${bundle}/a.txt`, `${bundle}/b.txt`]);
  assert.equal(cat.stdout, 'a\nb\n');
});
