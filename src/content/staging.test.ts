/**
 * The ingest's staging: chunks of any size land in the sink in order, in
 * batches of at most 1 MiB, one write at a time, hashed exactly once; a
 * chunk of a batch's size that finds the staging empty is written as it is;
 * while both buffers wait for the disk it says "wait"; a failed write is said
 * by the next call, and finish() still waits for the write in flight.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { STAGE_BYTES, Staging } from './staging.js';

/** A sink that takes `ms` per batch and records each batch's bytes and how many writes overlapped. */
function slowSink(ms: number) {
  const batches: Buffer[] = [];
  let active = 0;
  let overlap = 0;
  const sink = async (b: Uint8Array): Promise<void> => {
    active++;
    overlap = Math.max(overlap, active);
    batches.push(Buffer.from(b)); // copied now: the staging buffer is reused once the write is over
    await sleep(ms);
    active--;
  };
  return { sink, batches, overlap: () => overlap };
}

test('chunks of every size land in order, in batches of at most 1 MiB, one write at a time, hashed once', async () => {
  const data = randomBytes(5 * STAGE_BYTES + 12345);
  const sizes = [1, 512, 65536, 3 << 20, 7, STAGE_BYTES - 1, 16384];
  const { sink, batches, overlap } = slowSink(2);
  const hash = createHash('sha256');
  const s = new Staging(hash, sink);
  let waits = 0;
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    if (!s.add(data.subarray(at, at + n))) {
      waits++;
      await s.drained();
    }
    at += n;
  }
  await s.finish();
  assert.ok(Buffer.concat(batches).equals(data), 'the sink got every byte, in order');
  assert.ok(batches.every((b) => b.length <= 3 << 20));
  assert.equal(overlap(), 1, 'one write in flight at a time');
  assert.ok(waits > 0, 'a slow sink makes the caller wait');
  assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
});

test('a big chunk that finds the staging empty is written as it is, not copied', async () => {
  const big = randomBytes(2 * STAGE_BYTES);
  const got: Uint8Array[] = [];
  const s = new Staging(createHash('sha256'), async (b) => void got.push(b));
  assert.equal(s.add(big), true);
  await s.finish();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.buffer, big.buffer, 'the chunk itself went to the sink');
});

test('while both buffers wait for the disk the staging says wait; once drained, the full one is written', async () => {
  const { sink, batches } = slowSink(20);
  const s = new Staging(createHash('sha256'), sink);
  const chunk = Buffer.alloc(STAGE_BYTES / 4, 1);
  let taken = 0;
  while (s.add(chunk)) taken++;
  // first buffer written (4 chunks), the second filled (4 more), the 9th held
  assert.equal(taken, 7, 'the 8th chunk fills the second buffer while the first is being written');
  await s.drained();
  assert.equal(batches.length, 2, 'drained() starts the full buffer');
  await s.finish();
  assert.equal(Buffer.concat(batches).length, 8 * chunk.length);
});

test('a failed write is said by the next call; finish waits for the write in flight and says it too', async () => {
  let calls = 0;
  const s = new Staging(createHash('sha256'), async () => {
    calls++;
    await sleep(5);
    throw new Error('ENOSPC: no space left on device');
  });
  const chunk = Buffer.alloc(STAGE_BYTES, 2);
  assert.equal(s.add(Buffer.alloc(100)), true);
  assert.equal(s.add(chunk), true, 'the first buffer is being written');
  assert.equal(s.add(chunk), false, 'the second is full');
  await assert.rejects(s.drained(), /ENOSPC/);
  assert.throws(() => s.add(Buffer.alloc(1)), /ENOSPC/);
  await assert.rejects(s.finish(), /ENOSPC/);
  assert.equal(calls, 1, 'nothing more is written after a failure');
});

test('drained() and finish() called side by side (a source that ends while its last chunk waits) write every byte once, one write at a time', async () => {
  const { sink, batches, overlap } = slowSink(10);
  const hash = createHash('sha256');
  const s = new Staging(hash, sink);
  const data = randomBytes(3 * STAGE_BYTES + 999);
  let at = 0;
  while (at < data.length && s.add(data.subarray(at, (at += 300 << 10))));
  assert.ok(at < data.length, 'the staging said wait');
  await Promise.all([s.drained(), s.finish()]);
  assert.equal(overlap(), 1);
  assert.ok(Buffer.concat(batches).equals(data.subarray(0, at)), 'every byte taken went to the sink, once, in order');
  assert.equal(hash.digest('hex'), createHash('sha256').update(data.subarray(0, at)).digest('hex'));
});

test('chunks a source sends after it was told to wait are held, not refused, and land in order', async () => {
  const { sink, batches } = slowSink(10);
  const s = new Staging(createHash('sha256'), sink);
  const data = randomBytes(3 * STAGE_BYTES);
  const step = 256 << 10;
  let at = 0;
  while (s.add(data.subarray(at, (at += step))));
  // a source that ignores the pause: two more chunks
  assert.equal(s.add(data.subarray(at, (at += step))), false);
  assert.equal(s.add(data.subarray(at, (at += step))), false);
  await s.drained();
  while (at < data.length) if (!s.add(data.subarray(at, (at += step)))) await s.drained();
  await s.finish();
  assert.ok(Buffer.concat(batches).equals(data));
});
