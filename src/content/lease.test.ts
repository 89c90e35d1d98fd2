/**
 * Lease files are replaced atomically but not fsynced (a lease means nothing
 * once its process is gone, as after a power loss): a lease file a power loss
 * left empty or torn is read as dead, GC removes it and frees what only it
 * named, and the store checks clean; a live lease still protects its blobs.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkStore, collectGarbage, openStore, withLease } from './index.js';
import { scanLeases } from './lease.js';
import { tempDir } from '../testing/store-fixture.js';

test('lease files left empty or torn count as dead: GC removes them and frees what only they named', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  const blob = await withLease(store, (s) => s.content.writeBytes('written under a lease, never tagged'));
  // what a power loss may leave of unsynced lease files naming the blob
  await writeFile(join(root, 'leases', '4242-aaaaaaaaaaaa.json'), '');
  await writeFile(join(root, 'leases', '4243-bbbbbbbbbbbb.json'), `{"owner":"${process.pid}:1","created":"2026-01-01T00:00:00Z","digests":["${blob.digest}"`);
  const scan = await scanLeases(root);
  assert.deepEqual(scan.dead.map((p) => p.slice(root.length + 1)).sort(), ['leases/4242-aaaaaaaaaaaa.json', 'leases/4243-bbbbbbbbbbbb.json']);
  assert.equal(scan.live.has(blob.digest), false);
  await collectGarbage(store);
  assert.equal(await store.content.stat(blob.digest), undefined, 'the blob only torn leases named is freed');
  assert.deepEqual(await readdir(join(root, 'leases')), []);
  assert.deepEqual(await checkStore(store), []);
  await store.close();
});

test('a live lease written without fsync protects its blobs from GC', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  await withLease(store, async (s) => {
    const blob = await s.content.writeBytes('held while this lease lives');
    const files = await readdir(join(root, 'leases'));
    assert.equal(files.length, 1);
    assert.ok(files[0]!.startsWith(`${process.pid}-`) && files[0]!.endsWith('.json'), files[0]);
    assert.ok((await scanLeases(root)).live.has(blob.digest));
    await collectGarbage(store);
    assert.deepEqual(await store.content.stat(blob.digest), blob);
  });
  assert.deepEqual(await readdir(join(root, 'leases')), [], 'released with its operation');
  await store.close();
});
