import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { startContainerd, type TestContainerd } from '../../testing/containerd.js';
import { ContainerdConnection } from './grpc.js';
import { actualOf } from '../../content/verification.js';
import { ContainerdContentStore } from './content.js';
import { withLease } from './lease.js';
import { contentSuite } from '../../content/testsuite.js';
import { errorLine } from '../../cli/error-line.js';
import { withStallLimit } from '../../testing/ingest-stall.js';
import { fetchBlob } from '../../image/pull.js';
import type { Repository } from '../../registry/repository.js';

let ctd: TestContainerd;
let conn: ContainerdConnection;
before(async () => {
  ctd = await startContainerd();
  conn = new ContainerdConnection(ctd.address, 'kiln-content-test');
});
after(async () => {
  conn?.close();
  await ctd?.stop();
});

// The ContentStore contract's suite, as on kiln's layout store: each test in a namespace of its own, under a lease.
let suiteNamespaces = 0;
contentSuite('containerd', async (t) => {
  const c = new ContainerdConnection(ctd.address, `kiln-content-suite-${++suiteNamespaces}`);
  t.after(() => c.close());
  return { content: new ContainerdContentStore(c), scope: (fn) => withLease(c, (leased) => fn(new ContainerdContentStore(leased))) };
});

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('a blob streamed into containerd is verified, visible to ctr and read back byte for byte', async () => {
  const data = randomBytes(3 * (1 << 20) + 17);
  const digest = digestOf(data);
  // Under the lease (the leased view's store): an unreferenced blob written outside one is containerd's GC's to take.
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    const info = await content.ingest(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), { digest, size: data.length });
    assert.deepEqual(info, { digest, size: data.length });
    assert.deepEqual(await content.stat(digest), { digest, size: data.length });
    assert.ok((await content.readBytes(digest)).equals(data));
    assert.match(await ctd.ctr(['content', 'ls'], { namespace: 'kiln-content-test' }), new RegExp(digest));
    const listed = [];
    for await (const b of content.list()) listed.push(b.digest);
    assert.ok(listed.includes(digest));
    await content.delete(digest);
    assert.equal(await content.stat(digest), undefined);
  });
});

test('a write with the wrong expected digest is refused as data loss and leaves nothing', async () => {
  const data = randomBytes(1000);
  const wrong = digestOf(Buffer.from('other'));
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    await assert.rejects(content.ingest(Readable.from([data]), { digest: wrong, size: data.length }), (e: { code?: string; message: string }) => e.code === 'DATA_LOSS' && /sha256/.test(e.message));
    // A document's bytes ride on its COMMIT: refused alike, naming what was written.
    await assert.rejects(content.writeBytes(data, { digest: wrong }), (e: { code?: string; message: string }) => e.code === 'DATA_LOSS' && actualOf(e)?.digest === digestOf(data));
    assert.equal(await content.stat(wrong), undefined);
    assert.equal(await content.stat(digestOf(data)), undefined);
    assert.doesNotMatch(await ctd.ctr(['content', 'active'], { namespace: 'kiln-content-test' }), /kiln-/);
  });
});

test('an interrupted write resumes from the bytes containerd already holds', async () => {
  const data = randomBytes(2 * (1 << 20));
  const key = `resume-${Date.now()}`;
  let digest = '';
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    // A kiln process is killed mid-download: containerd keeps the partial ingest.
    const script = `
      import { Readable } from 'node:stream';
      import { ContainerdConnection } from ${JSON.stringify(new URL('./grpc.js', import.meta.url).href)};
      import { ContainerdContentStore } from ${JSON.stringify(new URL('./content.js', import.meta.url).href)};
      const conn = new ContainerdConnection(process.argv[1], 'kiln-content-test');
      const w = await new ContainerdContentStore(conn.leased(process.argv[2])).writer(process.argv[3]);
      await w.write(Readable.from([Buffer.alloc(1 << 20, 7)]));
      process.exit(9);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, ctd.address, leased.lease()!, key], { encoding: 'utf8' });
    assert.equal(child.status, 9, child.stderr);
    data.fill(7, 0, 1 << 20);
    digest = digestOf(data);
    let w;
    for (let i = 0; ; i++) {
      try {
        w = await content.writer(key);
        break;
      } catch (e) {
        // the old stream's lock goes when containerd notices the connection closed
        if (i > 50 || (e as { code?: string }).code !== 'UNAVAILABLE') throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(w.offset, 1 << 20, 'resumes after the first MiB');
    await w.write(Readable.from([data.subarray(1 << 20)]));
    assert.deepEqual(await w.commit({ digest, size: data.length }), { digest, size: data.length });
    assert.ok((await content.readBytes(digest)).equals(data));
  });
});

test('containerd not running: one clear line naming the socket', async () => {
  const dead = new ContainerdConnection('/nonexistent/containerd.sock', 'k8s.io');
  try {
    const c = new ContainerdContentStore(dead);
    await assert.rejects(c.stat('sha256:' + '0'.repeat(64)), (e: { code?: string; message: string; hint?: string }) => e.code === 'UNAVAILABLE' && e.message.includes('/nonexistent/containerd.sock') && /--address/.test(e.hint ?? ''));
  } finally {
    dead.close();
  }
});

test('a reader of a blob containerd lacks fails before any byte, in one line naming the digest and namespace; empty and multi-chunk blobs read back whole', async () => {
  const missing = digestOf(randomBytes(32));
  const content = new ContainerdContentStore(conn);
  await assert.rejects(content.reader(missing), (e: { code?: string; message: string }) => e.code === 'NOT_FOUND' && e.message === `content ${missing}: not found in containerd (kiln-content-test)`);
  await assert.rejects(content.readBytes(missing), (e: { code?: string }) => e.code === 'NOT_FOUND');
  // Empty and multi-chunk blobs read back whole.
  const big = randomBytes(5 * (1 << 20) + 3);
  await withLease(conn, async (leased) => {
    const c = new ContainerdContentStore(leased);
    const empty = await c.writeBytes(Buffer.alloc(0));
    assert.equal((await c.readBytes(empty.digest)).length, 0);
    // An empty stream's ingest: its COMMIT is the first message of the Write.
    assert.deepEqual(await c.ingest(Readable.from([])), empty);
    await c.ingest(Readable.from([big]), { digest: digestOf(big) });
    assert.ok((await c.readBytes(digestOf(big))).equals(big));
  });
});

test('writing a blob containerd already holds, without naming its digest, answers with that digest', async () => {
  const data = randomBytes(200_000);
  const digest = digestOf(data);
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    await content.ingest(Readable.from([data]), { digest });
    assert.deepEqual(await content.ingest(Readable.from([data])), { digest, size: data.length });
    assert.deepEqual(await content.writeBytes(data), { digest, size: data.length });
  });
});

test('writeBytes: the ingest a killed writer left under the digest (other bytes, longer) is written over, and a live holder waited for; no ingest left', async () => {
  const ns = 'kiln-content-test';
  const active = async () => (await ctd.ctr(['content', 'active'], { namespace: ns })).trim().split('\n').slice(1);
  assert.deepEqual(await active(), [], 'no ingest before');
  const data = Buffer.from(JSON.stringify({ schemaVersion: 2, note: randomBytes(300).toString('hex') }));
  const digest = digestOf(data);
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    // A kiln process killed while storing these bytes: its ingest kiln-<digest> holds other bytes, more of them.
    const script = `
      import { Readable } from 'node:stream';
      import { ContainerdConnection } from ${JSON.stringify(new URL('./grpc.js', import.meta.url).href)};
      import { ContainerdContentStore } from ${JSON.stringify(new URL('./content.js', import.meta.url).href)};
      const conn = new ContainerdConnection(process.argv[1], ${JSON.stringify(ns)});
      const w = await new ContainerdContentStore(conn.leased(process.argv[2])).writer(process.argv[3]);
      await w.write(Readable.from([Buffer.alloc(Number(process.argv[4]), 7)]));
      process.exit(9);`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, ctd.address, leased.lease()!, digest, String(data.length + 100)], { encoding: 'utf8' });
    assert.equal(child.status, 9, child.stderr);
    assert.match((await active()).join('\n'), new RegExp(`^kiln-${digest}\\s+${data.length + 100}B\\s`, 'm'), 'the killed writer left its ingest');
    // At once (the killed stream's lock may not be gone yet: waited for): written from byte 0, committed.
    assert.deepEqual(await content.writeBytes(data, { digest, size: data.length }), { digest, size: data.length });
    assert.ok((await content.readBytes(digest)).equals(data));
    assert.deepEqual(await active(), [], 'no ingest left');

    // A writer that holds the ref: the write waits for it, then writes.
    const other = Buffer.from('{"other":true}');
    const holder = await content.writer(digestOf(other));
    await holder.write(Readable.from([Buffer.from('{"oth')]));
    let done = false;
    const written = content.writeBytes(other).then((r) => ((done = true), r));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(done, false, 'waits while the ref is held');
    await holder.close!();
    assert.deepEqual(await written, { digest: digestOf(other), size: other.length });
    assert.deepEqual(await active(), [], 'no ingest left');
    await content.delete(digest);
    await content.delete(digestOf(other));
  });
});

test('writeBytes: a writer that holds the ref and writes nothing fails the wait once nothing moved for the stall limit, in one line naming the ref, containerd and how to see it', { timeout: 30_000 }, async () => {
  const ns = 'kiln-content-test';
  const data = Buffer.from(JSON.stringify({ stalled: randomBytes(16).toString('hex') }));
  const digest = digestOf(data);
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    const holder = await content.writer(digest);
    try {
      await holder.write(Readable.from([data.subarray(0, 5)]));
      const started = performance.now();
      const failure = await withStallLimit(800, () => content.writeBytes(data).then(() => assert.fail('written while another writer held the ref'), (e: unknown) => e));
      const took = performance.now() - started;
      const line = errorLine(failure, false);
      const m = new RegExp(
        `^kiln: ingest kiln-${digest} in containerd at ${ctd.address} \\(namespace ${ns}\\) is held by another writer, which has written nothing for (\\d+\\.\\d) s ` +
          `\\(see it with 'ctr -a ${ctd.address} -n ${ns} content active'; stop the other writer, then run the command again\\)$`,
      ).exec(line);
      assert.ok(m, line);
      assert.ok(Number(m[1]) >= 0.8, line);
      assert.ok(took >= 800, `failed after ${took} ms, before the stall limit`);
      assert.equal((failure as { code?: string }).code, 'UNAVAILABLE');
      // what the hint says to run shows the holder's ingest
      assert.match(await ctd.ctr(['content', 'active'], { namespace: ns }), new RegExp(`^kiln-${digest}\\s+5B\\s`, 'm'));
    } finally {
      await holder.abort();
    }
  });
});

test('writeBytes: a writer that holds the ref and keeps writing, slowly, past the stall limit is waited for until it commits', { timeout: 30_000 }, async () => {
  const data = randomBytes(1000);
  const digest = digestOf(data);
  const limit = 1500;
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    const holder = await content.writer(digest);
    await holder.write(Readable.from([data.subarray(0, 10)]));
    await withStallLimit(limit, async () => {
      const started = performance.now();
      let committing = false;
      const written = content.writeBytes(data).then((info) => ({ info, committing, took: performance.now() - started }));
      written.catch(() => undefined);
      // a byte every 100 ms, for 2.5 times the stall limit
      let at = 10;
      while (performance.now() - started < 2.5 * limit) {
        await new Promise((r) => setTimeout(r, 100));
        await holder.write(Readable.from([data.subarray(at, ++at)]));
      }
      await holder.write(Readable.from([data.subarray(at)]));
      committing = true;
      await holder.commit({ digest, size: data.length });
      const r = await written;
      assert.deepEqual(r.info, { digest, size: data.length });
      assert.equal(r.committing, true, 'the waiting write ended only once the holder committed');
      assert.ok(r.took >= 2.5 * limit, `waited ${r.took} ms`);
    });
    assert.ok((await content.readBytes(digest)).equals(data));
    await content.delete(digest);
  });
});

test("a pull's layer whose ref another writer holds and writes nothing to fails the pull once nothing moved for the stall limit, without asking the registry", { timeout: 30_000 }, async () => {
  const ns = 'kiln-content-test';
  const data = randomBytes(2000);
  const digest = digestOf(data);
  const noRegistry = { getBlob: () => assert.fail('the registry was asked while another writer held the ref') } as unknown as Repository;
  await withLease(conn, async (leased) => {
    const content = new ContainerdContentStore(leased);
    const holder = await content.writer(digest);
    try {
      await holder.write(Readable.from([data.subarray(0, 100)]));
      const events: string[] = [];
      const failure = await withStallLimit(800, () =>
        fetchBlob(content, noRegistry, { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: data.length }, { emit: (e) => events.push(`${e.status} ${e.detail}`) }, AbortSignal.timeout(15_000)),
      ).then(
        () => assert.fail('fetched while another writer held the ref'),
        (e: unknown) => e,
      );
      assert.match(errorLine(failure, false), new RegExp(`^kiln: ingest kiln-${digest} in containerd at ${ctd.address} \\(namespace ${ns}\\) is held by another writer, which has written nothing for \\d+\\.\\d s \\(see it with 'ctr -a `));
      assert.deepEqual(events, ['Waiting for another kiln process']);
    } finally {
      await holder.abort();
    }
  });
});
