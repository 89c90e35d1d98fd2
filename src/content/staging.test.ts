/**
 * The ingest's staging: chunks of any size land in the sink in order, in
 * batches of about 1 MiB, one write at a time, hashed exactly once; a chunk
 * of LARGE_CHUNK or more joins its batch as it is (not copied), smaller ones
 * are copied; while both buffers wait for the disk it says "wait"; a failed
 * write is said by the next call, and finish() still waits for the write in flight.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { LARGE_CHUNK, STAGE_BYTES, Staging } from './staging.js';

/** A sink that takes `ms` per batch and records each batch's bytes, its parts' sizes, and how many writes overlapped. */
function slowSink(ms: number) {
  const batches: Buffer[] = [];
  const sizes: number[][] = [];
  let active = 0;
  let overlap = 0;
  const sink = async (parts: Uint8Array[]): Promise<void> => {
    active++;
    overlap = Math.max(overlap, active);
    batches.push(Buffer.concat(parts)); // copied now: the staging buffer is reused once the write is over
    sizes.push(parts.map((p) => p.length));
    await sleep(ms);
    active--;
  };
  return { sink, batches, sizes, overlap: () => overlap };
}

test('chunks of every size land in order, in batches of about 1 MiB, one write at a time, hashed once', async () => {
  const data = randomBytes(5 * STAGE_BYTES + 12345);
  const sizes = [1, 512, 65536, 3 << 20, 7, STAGE_BYTES - 1, 16384, LARGE_CHUNK - 1, LARGE_CHUNK, 300 << 10, 100];
  const { sink, batches, sizes: parts, overlap } = slowSink(2);
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
  // a batch is written once it holds 1 MiB: all but its last part come to less
  assert.ok(parts.every((p) => p.slice(0, -1).reduce((a, b) => a + b, 0) < STAGE_BYTES), JSON.stringify(parts));
  assert.equal(overlap(), 1, 'one write in flight at a time');
  assert.ok(waits > 0, 'a slow sink makes the caller wait');
  assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
});

test('a big chunk that finds the staging empty is written as it is, not copied', async () => {
  const big = randomBytes(2 * STAGE_BYTES);
  const got: Uint8Array[][] = [];
  const s = new Staging(createHash('sha256'), async (parts) => void got.push(parts));
  assert.equal(s.add(big), true);
  await s.finish();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.length, 1);
  assert.equal(got[0]![0]!.buffer, big.buffer, 'the chunk itself went to the sink');
});

test("a layer tar's chunks (small headers, 256 KiB batches of its writer) go to the sink as they are when big, copied when small", async () => {
  const header = Buffer.alloc(512, 1);
  const bodies = [0, 1, 2, 3].map((i) => Buffer.alloc(256 << 10, 10 + i));
  const tail = Buffer.alloc(LARGE_CHUNK - 1, 3);
  const got: Uint8Array[][] = [];
  const hash = createHash('sha256');
  const s = new Staging(hash, async (parts) => void got.push(parts.map((p) => p)));
  for (const c of [header, bodies[0]!, bodies[1]!, header, bodies[2]!, bodies[3]!, tail]) assert.equal(s.add(c), true);
  await s.finish();
  const all = got.flat();
  for (const b of bodies) assert.ok(all.some((p) => p.buffer === b.buffer && p.byteOffset === b.byteOffset && p.length === b.length), 'a 256 KiB chunk went to the sink itself');
  assert.ok(!all.some((p) => p.buffer === header.buffer || p.buffer === tail.buffer), 'small chunks were copied');
  const expected = Buffer.concat([header, bodies[0]!, bodies[1]!, header, bodies[2]!, bodies[3]!, tail]);
  assert.ok(Buffer.concat(all).equals(expected), 'in order');
  assert.equal(got.length, 2, 'a batch of 1 MiB (512 + 3 × 256 KiB + 512 + the 4th), then the tail');
  assert.equal(hash.digest('hex'), createHash('sha256').update(expected).digest('hex'));
});

test('while both buffers wait for the disk the staging says wait; once drained, the full one is written', async () => {
  const { sink, batches } = slowSink(20);
  const s = new Staging(createHash('sha256'), sink);
  const chunk = Buffer.alloc(STAGE_BYTES / 32, 1);
  let taken = 0;
  while (s.add(chunk)) taken++;
  // first buffer written (32 chunks), the second filled (32 more)
  assert.equal(taken, 63, 'the 64th chunk fills the second buffer while the first is being written');
  await s.drained();
  assert.equal(batches.length, 2, 'drained() starts the full buffer');
  await s.finish();
  assert.equal(Buffer.concat(batches).length, 64 * chunk.length);
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
