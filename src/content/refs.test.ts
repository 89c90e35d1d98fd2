import assert from 'node:assert/strict';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from './index.js';
import { storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';

const indexOf = async (root: string) => JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
const names = async (root: string) => (await indexOf(root)).manifests.map((d) => d.annotations?.['org.opencontainers.image.ref.name']);

test('index.json read once is read again when anyone changes it: another store of the same root, a tool replacing it or rewriting it in place', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  const img = await tinyImage();
  await storeImage(store, img, 'docker.io/library/a:1');
  assert.deepEqual((await store.refs.list()).map((r) => r.name), ['docker.io/library/a:1']);
  // Another opening of the same root (another process's view) names another.
  const other = await openStore(root, { create: false });
  await other.refs.set('docker.io/library/b:1', img.manifest);
  assert.deepEqual((await store.refs.list()).map((r) => r.name), ['docker.io/library/a:1', 'docker.io/library/b:1']);
  // A tool replacing the file (write a temp, rename) ...
  const index = await indexOf(root);
  await writeFile(join(root, 'index.tmp'), JSON.stringify({ ...index, manifests: index.manifests.slice(1) }));
  await rename(join(root, 'index.tmp'), join(root, 'index.json'));
  assert.deepEqual((await store.refs.list()).map((r) => r.name), ['docker.io/library/b:1']);
  assert.equal(await store.refs.get('docker.io/library/a:1'), undefined);
  // ... or rewriting it in place.
  await writeFile(join(root, 'index.json'), JSON.stringify(index));
  assert.deepEqual((await store.refs.list()).map((r) => r.name), ['docker.io/library/a:1', 'docker.io/library/b:1']);
  await other.close();
  await store.close();
});

test('a name set again to what it names, as the last entry, leaves index.json as it is; otherwise the name moves last', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  const img = await tinyImage();
  const two = await tinyImage({ files: [{ 'x.txt': 'two' }] });
  await storeImage(store, img, 'docker.io/library/a:1');
  await storeImage(store, two, 'docker.io/library/b:1');
  const before = await stat(join(root, 'index.json'));
  await store.refs.set('docker.io/library/b:1', two.manifest);
  const after = await stat(join(root, 'index.json'));
  assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs]);
  assert.equal(await store.refs.delete('docker.io/library/nope:1'), false);
  assert.equal((await stat(join(root, 'index.json'))).ino, before.ino);
  // Not the last entry: it moves last, as any set puts it.
  await store.refs.set('docker.io/library/a:1', img.manifest);
  assert.deepEqual(await names(root), ['docker.io/library/b:1', 'docker.io/library/a:1']);
  // The same name to another image: the old one left unnamed (dangling), the name last.
  await store.refs.set('docker.io/library/a:1', two.manifest);
  const index = await indexOf(root);
  assert.deepEqual(await names(root), ['docker.io/library/b:1', undefined, 'docker.io/library/a:1']);
  assert.equal((index.manifests[1] as { digest?: string }).digest, img.manifest.digest);
  await store.close();
});
