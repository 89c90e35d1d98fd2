import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkPool, releaseChunk } from './chunk-pool.js';

test('a chunk given back is the next one taken; given twice, it is handed out once; a buffer of no pool is ignored', () => {
  const pool = new ChunkPool(16);
  const a = pool.take();
  const b = pool.take();
  assert.notEqual(a.buffer, b.buffer);
  releaseChunk(a.subarray(0, 5)); // a part of it, as the last short read is
  releaseChunk(a);
  releaseChunk(Buffer.alloc(16));
  const c = pool.take();
  assert.equal(c.buffer, a.buffer);
  assert.equal(c.length, 16);
  assert.notEqual(pool.take().buffer, a.buffer, 'a buffer given back twice is not handed out twice');
});

test('a pool keeps at most `keep` free buffers', () => {
  const pool = new ChunkPool(8, 2);
  const taken = [pool.take(), pool.take(), pool.take()];
  for (const t of taken) releaseChunk(t);
  const again = [pool.take(), pool.take(), pool.take()];
  assert.equal(again.filter((x) => taken.some((t) => t.buffer === x.buffer)).length, 2);
});
