import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedLru } from './bounded-lru.js';

test('bounded LRU: the least recently used (read or set) goes first, until the total fits the bound', () => {
  const c = new BoundedLru<string, number>(100);
  c.set('a', 1, 40);
  c.set('b', 2, 40);
  assert.deepEqual(c.keys(), ['a', 'b']);
  assert.equal(c.get('a'), 1, 'a read makes a the most recent');
  c.set('c', 3, 40); // 120 > 100: b, the least recently used, goes
  assert.deepEqual(c.keys(), ['a', 'c']);
  assert.equal(c.get('b'), undefined);
  assert.equal(c.cost, 80);
  c.set('a', 4, 10); // replaced: its old cost no longer counts, and it is the most recent
  assert.deepEqual(c.keys(), ['c', 'a']);
  assert.equal(c.cost, 50);
  c.set('d', 5, 90); // 140: c goes, then 100 fits
  assert.deepEqual(c.keys(), ['a', 'd']);
  assert.equal(c.cost, 100);
  c.set('e', 6, 95); // 195: a, then d
  assert.deepEqual(c.keys(), ['e']);
  assert.equal(c.cost, 95);
});

test('bounded LRU: a value costlier than the whole bound is not kept (nor the one it replaces); a lower bound applies at the next set', () => {
  const c = new BoundedLru<string, string>(100);
  c.set('a', 'x', 30);
  c.set('b', 'y', 30);
  c.set('b', 'too big', 101);
  assert.deepEqual(c.keys(), ['a']);
  assert.equal(c.cost, 30);
  c.set('c', 'z', 30);
  c.maxCost = 50;
  c.set('d', 'w', 10); // 70 > 50: a goes; 40 fits
  assert.deepEqual(c.keys(), ['c', 'd']);
  c.delete('c');
  c.delete('missing');
  assert.deepEqual(c.keys(), ['d']);
  assert.equal(c.cost, 10);
});
