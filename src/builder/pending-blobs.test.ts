/**
 * The background downloads of cache hits' layers: at most PARALLEL_FETCHES at
 * once, each digest once; a reader of a blob waits for its download (and only
 * its own); a failure reaches its reader and `settled`, which waits for all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { PARALLEL_FETCHES, PendingBlobs } from './pending-blobs.js';

/** A download that ends when told to. */
function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((resolve, reject) => [open, fail] = [resolve, reject]);
  return { promise, open, fail };
}

const tick = () => new Promise((r) => setImmediate(r));

test('downloads run PARALLEL_FETCHES at once, each digest once, and settled waits for every one', async () => {
  const pending = new PendingBlobs();
  const gates = new Map<string, ReturnType<typeof gate>>();
  let running = 0;
  let most = 0;
  let calls = 0;
  const n = PARALLEL_FETCHES * 2 + 1;
  for (let i = 0; i < n; i++) {
    const d = `sha256:${i}`;
    gates.set(d, gate());
    const start = () => {
      calls++;
      most = Math.max(most, ++running);
      return gates.get(d)!.promise.finally(() => running--);
    };
    pending.start(d, start);
    pending.start(d, start); // the same digest again: not fetched twice
  }
  await tick();
  assert.equal(running, PARALLEL_FETCHES);
  let done = false;
  const all = pending.settled().then(() => (done = true));
  for (const g of gates.values()) {
    g.open();
    await tick();
  }
  await all;
  assert.ok(done);
  assert.equal(most, PARALLEL_FETCHES);
  assert.equal(calls, n);
  assert.ok(pending.has('sha256:0') && !pending.has('sha256:other'));
});

test("a reader waits for its blob's download only; a failed download fails its reader and settled", async () => {
  const pending = new PendingBlobs();
  const slow = gate();
  const bad = gate();
  pending.start('sha256:slow', () => slow.promise);
  pending.start('sha256:bad', () => bad.promise);
  const store = { reader: async (d: string) => Readable.from([d]) };
  const blobs = pending.reader(store);
  // A blob nobody is fetching is read at once.
  assert.equal((await (await blobs.reader('sha256:stored')).toArray()).join(''), 'sha256:stored');
  let read = false;
  const reading = blobs.reader('sha256:slow').then(() => (read = true));
  await tick();
  assert.equal(read, false, 'the read waits for the download');
  bad.fail(new Error('blob sha256:bad: connection reset'));
  await assert.rejects(blobs.reader('sha256:bad'), /connection reset/);
  slow.open();
  await reading;
  assert.ok(read);
  await assert.rejects(pending.settled(), /connection reset/, 'the build fails with the download that failed');
});
