/**
 * The ingest's batched writes: a tar-like stream of thousands of 512-byte
 * chunks (more than one writev takes) mixed with big ones lands byte for
 * byte; a source failing while a batch is still being written leaves every
 * byte it gave on disk and counted, so the next writer resumes after them;
 * a failed verification says what was hashed and keeps nothing; a blob big
 * enough to be flushed while it streams lands whole.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isKilnError } from '../errors.js';
import { openStore } from './index.js';
import { ingestPaths } from './ingest.js';
import { actualOf } from './verification.js';
import { sha256, tempDir } from '../testing/store-fixture.js';

/** 2,500 header-sized chunks, then 3 MiB in 64 KiB chunks, then 2,500 more small ones. */
function* tarLike(data: Buffer): Generator<Buffer> {
  let at = 0;
  for (; at < 2500 * 512; at += 512) yield data.subarray(at, at + 512);
  for (const end = at + (3 << 20); at < end; at += 65536) yield data.subarray(at, at + 65536);
  for (; at < data.length; at += 512) yield data.subarray(at, at + 512);
}

test('thousands of small chunks and big ones are stored byte for byte', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(2500 * 512 + (3 << 20) + 2500 * 512);
  const info = await store.content.ingest(Readable.from(tarLike(data)), { digest: sha256(data), size: data.length });
  assert.deepEqual(info, { digest: sha256(data), size: data.length });
  assert.ok((await readFile(join(store.root, 'blobs', 'sha256', info.digest.slice(7)))).equals(data));
  await store.close();
});

test('a blob bigger than the early-flush size (flushed while it streams) commits byte for byte, and one aborted mid-flush leaves nothing', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(20 << 20);
  const chunks = function* (): Generator<Buffer> {
    for (let at = 0; at < data.length; at += 1 << 20) yield data.subarray(at, at + (1 << 20));
  };
  const info = await store.content.ingest(Readable.from(chunks()), { digest: sha256(data), size: data.length });
  assert.deepEqual(info, { digest: sha256(data), size: data.length });
  assert.ok((await readFile(join(store.root, 'blobs', 'sha256', info.digest.slice(7)))).equals(data));
  const w = await store.content.writer('aborted-big');
  await w.write(Readable.from(chunks()));
  await w.abort();
  assert.deepEqual((await readdir(join(store.root, 'ingest'))).filter((n) => n.endsWith('.data')), []);
  await store.close();
});

test('a source failing after several batches: every byte it gave is on disk and counted, the next writer resumes and verifies', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(2500 * 512 + (3 << 20) + 2500 * 512);
  const digest = sha256(data);
  const given = 2500 * 512 + (3 << 20) + 700 * 512;
  async function* failing(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    for (const c of tarLike(data)) {
      if (sent >= given) throw new Error('connection reset');
      sent += c.length;
      yield c;
    }
  }
  const w = await store.content.writer(digest);
  await assert.rejects(w.write(failing()), /connection reset/);
  assert.equal(w.offset, given, 'offset counts what is on disk');
  assert.equal((await stat(ingestPaths(store.root, digest).data)).size, given);
  await w.close!();
  const again = await store.content.writer(digest);
  assert.equal(again.offset, given);
  await again.write(Readable.from([data.subarray(again.offset)]));
  assert.deepEqual(await again.commit({ digest, size: data.length }), { digest, size: data.length });
  await store.close();
});

test('a failed verification says what was hashed and leaves neither the blob nor the ingest', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(5 << 20);
  const claimed = sha256(randomBytes(10));
  const w = await store.content.writer(claimed);
  await w.write(Readable.from(tarLike(data.subarray(0, 2500 * 512 + (3 << 20)))));
  await w.write(Readable.from([data.subarray(2500 * 512 + (3 << 20))]));
  await assert.rejects(w.commit({ digest: claimed, size: data.length }), (e: unknown) => {
    assert.ok(isKilnError(e, 'DATA_LOSS'));
    assert.match(e.message, new RegExp(`expected ${claimed} \\(${data.length} bytes\\), got ${sha256(data)} \\(${data.length} bytes\\); not stored`));
    assert.deepEqual(actualOf(e), { digest: sha256(data), size: data.length });
    return true;
  });
  assert.equal(actualOf(new Error('other')), undefined);
  assert.equal(await store.content.stat(claimed), undefined);
  assert.deepEqual(await readdir(join(store.root, 'blobs', 'sha256')), []);
  assert.deepEqual(await readdir(join(store.root, 'ingest')), []);
  await store.close();
});

test('content already stored: the commit keeps the stored blob, drops the ingest and leases the digest', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(1 << 20);
  const digest = sha256(data);
  await store.content.ingest(Readable.from([data]), { digest, size: data.length });
  const blob = join(store.root, 'blobs', 'sha256', digest.slice(7));
  const before = await stat(blob);
  const w = await store.content.writer('again');
  await w.write(Readable.from([data]));
  assert.deepEqual(await w.commit({ digest, size: data.length }), { digest, size: data.length });
  assert.equal((await stat(blob)).ino, before.ino);
  assert.deepEqual(await readdir(join(store.root, 'ingest')), []);
  assert.ok(store.leases.current().has(digest));
  await store.close();
});

test('content stored when the commit began but removed before it took the store lock (GC) is stored from the ingest', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(1 << 20);
  const digest = sha256(data);
  await store.content.ingest(Readable.from([data]), { digest, size: data.length });
  const blob = join(store.root, 'blobs', 'sha256', digest.slice(7));
  const w = await store.content.writer('again');
  await w.write(Readable.from([data]));
  // GC's turn comes between the commit's first look and the store lock.
  const lease = store.leases.current();
  const protect = lease.protect.bind(lease);
  lease.protect = async (d, fn) => {
    await unlink(blob);
    return protect(d, fn);
  };
  assert.deepEqual(await w.commit({ digest, size: data.length }), { digest, size: data.length });
  assert.deepEqual(await readFile(blob), data);
  assert.deepEqual(await readdir(join(store.root, 'ingest')), []);
  await store.close();
});

test('a Readable is read no further ahead of the disk than the staging holds, and a paused one is read too', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(24 << 20);
  const w = await store.content.writer('bounded');
  let produced = 0;
  let ahead = 0;
  const source = new Readable({
    highWaterMark: 64 << 10,
    read() {
      ahead = Math.max(ahead, produced - w.offset);
      if (produced >= data.length) return void this.push(null);
      // pushed synchronously: without backpressure the whole source would be read before the first write ends
      while (produced < data.length && this.push(data.subarray(produced, (produced += 64 << 10))));
    },
  });
  source.pause();
  await w.write(source);
  assert.ok(ahead <= 4 << 20, `read ${ahead} bytes ahead of the disk`);
  assert.deepEqual(await w.commit({ digest: sha256(data), size: data.length }), { digest: sha256(data), size: data.length });
  await store.close();
});

test('a Readable failing mid-stream: every byte it gave is on disk and counted, and its error is said', async (t) => {
  const store = await openStore(join(await tempDir(t), 'store'));
  const data = randomBytes(3 << 20);
  const digest = sha256(data);
  const source = new Readable({ read() {} });
  const w = await store.content.writer(digest);
  const writing = w.write(source);
  // what the writer took (bytes still buffered in the source when it fails are not given)
  let given = 0;
  source.on('data', (c: Buffer) => (given += c.length));
  for (let at = 0; at < (2 << 20) + 4096; at += 4096) source.push(data.subarray(at, at + 4096));
  setImmediate(() => source.destroy(new Error('connection reset')));
  await assert.rejects(writing, /connection reset/);
  assert.ok(given > 1 << 20);
  assert.equal(w.offset, given, 'offset counts what is on disk');
  assert.equal((await stat(ingestPaths(store.root, digest).data)).size, given);
  await w.close!();
  const again = await store.content.writer(digest);
  assert.equal(again.offset, given);
  await again.write(Readable.from([data.subarray(given)]));
  assert.deepEqual(await again.commit({ digest, size: data.length }), { digest, size: data.length });
  await store.close();
});
