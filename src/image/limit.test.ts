/**
 * mapLimit: order kept, at most `limit` at once, and a failure rejects only
 * after what was in flight has settled, with nothing new started after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapLimit } from './limit.js';

test('results keep the input order with at most `limit` in flight', async () => {
  let now = 0;
  let most = 0;
  const out = await mapLimit([30, 5, 20, 1, 10], 2, async (ms, i) => {
    most = Math.max(most, ++now);
    await sleep(ms);
    now--;
    return i * 10;
  });
  assert.deepEqual(out, [0, 10, 20, 30, 40]);
  assert.equal(most, 2);
});

test('a failure rejects once the items in flight have settled, and no item starts after it', async () => {
  const started: number[] = [];
  const finished: number[] = [];
  await assert.rejects(
    mapLimit([0, 1, 2, 3], 2, async (item) => {
      started.push(item);
      if (item === 0) {
        await sleep(5);
        throw new Error('item 0 failed');
      }
      await sleep(60);
      finished.push(item);
      return item;
    }),
    /item 0 failed/,
  );
  assert.deepEqual(started, [0, 1], 'nothing started after the failure');
  assert.deepEqual(finished, [1], 'the item in flight had finished when the call rejected');
});
