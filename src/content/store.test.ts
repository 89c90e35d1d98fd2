import assert from 'node:assert/strict';
import { chmod, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { MediaType } from '../oci/mediatypes.js';
import { openStore } from './index.js';
import { repoRoot, run, sha256, storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';

const distIndex = join(repoRoot(), 'dist', 'content', 'index.js');

test('a new directory becomes an OCI image layout', async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  assert.deepEqual(JSON.parse(await readFile(join(root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  assert.deepEqual(JSON.parse(await readFile(join(root, 'index.json'), 'utf8')), { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
  assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
  await store.close();
  // Opening again keeps what is there.
  const again = await openStore(root, { create: false });
  assert.deepEqual(await again.refs.list(), []);
});

test('a non-empty directory that is not an OCI layout is refused', async (t) => {
  const root = await tempDir(t);
  await writeFile(join(root, 'notes.txt'), 'mine');
  await assert.rejects(openStore(root), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'FAILED_PRECONDITION');
    assert.match(e.message, new RegExp(`${root} is not empty and is not an OCI image layout`));
    return true;
  });
  assert.deepEqual(await readdir(root), ['notes.txt']);
  const future = await tempDir(t);
  await writeFile(join(future, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await assert.rejects(openStore(future), (e: Error & { code?: string }) => e.code === 'FAILED_PRECONDITION' && e.message.includes('OCI layout of version "2.0.0"'));
  await assert.rejects(openStore(join(root, 'missing'), { create: false }), { code: 'NOT_FOUND' });
});

test('an oci-layout that is a dangling link, or an index.json removed after the store was opened, is one line naming the store', async (t) => {
  const root = await tempDir(t);
  await symlink(join(root, 'gone'), join(root, 'oci-layout'));
  await assert.rejects(openStore(root), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'FAILED_PRECONDITION');
    assert.equal(e.message, `${root}/oci-layout is not there (a dangling link, or removed while kiln opened the store)`);
    return true;
  });
  const store = await openStore(join(root, 'store'));
  await rm(join(root, 'store', 'index.json'));
  await assert.rejects(store.refs.list(), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'FAILED_PRECONDITION');
    assert.equal(e.message, `${join(root, 'store')} has an oci-layout file but no index.json`);
    return true;
  });
  await store.close();
});

test('a store the user cannot write is PERMISSION_DENIED naming the path', async (t) => {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  const root = join(dir, 'store');
  await (await openStore(root)).close();
  const script = join(dir, 'ro.mjs');
  await writeFile(
    script,
    `import { openStore } from ${JSON.stringify(distIndex)};
     try { await openStore(${JSON.stringify(root)}); console.log('opened'); }
     catch (e) { console.log(e.code + ' ' + e.message); }
     const ro = await openStore(${JSON.stringify(root)}, { writable: false });
     console.log('refs ' + (await ro.refs.list()).length);
     try { await ro.content.writeBytes('x'); } catch (e) { console.log(e.code + ' ' + e.message); }`,
  );
  const r = await run(process.execPath, [script], { uid: 65534, gid: 65534 });
  assert.equal(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, new RegExp(`^PERMISSION_DENIED kiln store ${root} is not writable: cannot write ${root}/blobs/sha256 \\(EACCES\\)`));
  assert.equal(lines[1], 'refs 0');
  assert.match(lines[2]!, new RegExp(`^PERMISSION_DENIED kiln store ${root} is not writable: cannot write ${root}/ingest/`));
});

test('blobs are verified before they become visible', async (t) => {
  const store = await openStore(await tempDir(t));
  const body = Buffer.from('a config');
  const info = await store.content.writeBytes(body, { digest: sha256(body), size: body.length });
  assert.deepEqual(info, { digest: sha256(body), size: body.length });
  assert.deepEqual(await store.content.readBytes(info.digest), body);
  assert.deepEqual(await readFile(join(store.root, 'blobs', 'sha256', info.digest.slice(7))), body);

  const wrong = sha256('something else');
  await assert.rejects(store.content.ingest(Readable.from([Buffer.from('tampered')]), { digest: wrong }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'DATA_LOSS');
    assert.ok(e.message.includes(`expected ${wrong}`), e.message);
    assert.ok(e.message.includes(`got ${sha256('tampered')} (8 bytes); not stored`), e.message);
    return true;
  });
  assert.equal(await store.content.stat(sha256('tampered')), undefined);
  assert.deepEqual((await readdir(join(store.root, 'ingest'))).filter((n) => n.endsWith('.data')), []);
  await assert.rejects(store.content.writeBytes('short', { size: 99 }), /got sha256:[a-f0-9]{64} \(5 bytes\); not stored/);
  await assert.rejects(store.content.reader(wrong), (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && e.message.includes(`content ${wrong}: not found`));
  const listed = [];
  for await (const b of store.content.list()) listed.push(b);
  assert.deepEqual(listed, [info]);
});

test('an ingest killed with SIGKILL resumes from its bytes on disk', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'store');
  await (await openStore(root)).close();
  const whole = Buffer.alloc(3 << 20, 7);
  const first = whole.subarray(0, 1 << 20);
  const script = join(dir, 'partial.mjs');
  await writeFile(
    script,
    `import { openStore } from ${JSON.stringify(distIndex)};
     const store = await openStore(${JSON.stringify(root)});
     const w = await store.content.writer('layer-1');
     await w.write([Buffer.alloc(${first.length}, 7)]);
     process.kill(process.pid, 'SIGKILL');`,
  );
  const r = await run(process.execPath, [script]);
  assert.equal(r.signal, 'SIGKILL');
  const store = await openStore(root);
  const w = await store.content.writer('layer-1');
  assert.equal(w.offset, first.length);
  await w.write(Readable.from([whole.subarray(w.offset)]));
  const info = await w.commit({ digest: sha256(whole), size: whole.length });
  assert.equal(info.digest, sha256(whole));
  assert.deepEqual(await readFile(join(root, 'blobs', 'sha256', info.digest.slice(7))), whole);
  assert.deepEqual((await readdir(join(root, 'ingest'))).sort(), []);
});

test('an ingest key is written by one process at a time', async (t) => {
  const store = await openStore(await tempDir(t));
  const w = await store.content.writer('k');
  await assert.rejects(store.content.writer('k'), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE' && e.message.includes(`being written by process ${process.pid}`));
  await w.abort();
  const again = await store.content.writer('k');
  assert.equal(again.offset, 0);
  await again.abort();
});

test('tags are index.json entries with the full name as ref.name', async (t) => {
  const store = await openStore(await tempDir(t));
  const img = await tinyImage();
  await storeImage(store, img, 'docker.io/library/busybox:latest');
  await store.refs.set('localhost:5000/a/b:1', img.manifest);
  await store.refs.set('docker.io/library/busybox:latest', img.manifest);
  const index = JSON.parse(await readFile(join(store.root, 'index.json'), 'utf8'));
  assert.deepEqual(
    index.manifests.map((d: { annotations: Record<string, string> }) => d.annotations['org.opencontainers.image.ref.name']),
    ['localhost:5000/a/b:1', 'docker.io/library/busybox:latest'],
  );
  assert.deepEqual(await store.refs.get('docker.io/library/busybox:latest'), img.manifest);
  assert.equal(await store.refs.get('nope'), undefined);
  assert.equal(await store.refs.delete('localhost:5000/a/b:1'), true);
  assert.equal(await store.refs.delete('localhost:5000/a/b:1'), false);
  assert.deepEqual(await store.refs.list(), [{ name: 'docker.io/library/busybox:latest', descriptor: img.manifest }]);
  // Entries other tools wrote without a name are kept, and no temp file is left behind.
  const unnamed = { ...img.config, mediaType: MediaType.OciManifest };
  await writeFile(join(store.root, 'index.json'), JSON.stringify({ ...index, manifests: [unnamed] }));
  await store.refs.set('a:1', img.manifest);
  const after = JSON.parse(await readFile(join(store.root, 'index.json'), 'utf8'));
  assert.deepEqual(after.manifests[0], unnamed);
  assert.equal(after.manifests.length, 2);
  assert.deepEqual((await readdir(store.root)).filter((n) => n.includes('.tmp-')), []);
});

test('a source that fails mid-write keeps every byte it gave: the next writer resumes after them and the blob verifies', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = Buffer.from('a'.repeat(3000) + 'b'.repeat(3000));
  const digest = sha256(data);
  async function* failing(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 3; i++) yield data.subarray(i * 1000, (i + 1) * 1000); // small chunks: gathered before a write
    throw new Error('stalled');
  }
  const w = await store.content.writer(digest);
  await assert.rejects(w.write(failing()), /stalled/);
  await w.close!();
  const again = await store.content.writer(digest);
  assert.equal(again.offset, 3000, 'the 3,000 bytes the source gave are on disk');
  await again.write(Readable.from([data.subarray(again.offset)]));
  assert.deepEqual(await again.commit({ digest, size: data.length }), { digest, size: data.length });
  await store.close();
});
