import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newestFirst } from './newest-first.js';

test('newestFirst: newest first, fractions of a second as times, missing last', () => {
  const times = [
    '2026-12-04T15:25:00Z',
    undefined,
    '2026-12-04T15:25:00.5Z',
    '2025-01-01T00:00:00.000Z',
    '2026-12-04T15:25:00.123456789Z',
    '2026-12-04T15:25:00.123456788Z',
  ];
  assert.deepEqual([...times].sort(newestFirst), [
    '2026-12-04T15:25:00.5Z',
    '2026-12-04T15:25:00.123456789Z',
    '2026-12-04T15:25:00.123456788Z',
    '2026-12-04T15:25:00Z',
    '2025-01-01T00:00:00.000Z',
    undefined,
  ]);
});

test('newestFirst: equal times are equal', () => {
  assert.equal(newestFirst('2026-12-04T15:25:00Z', '2026-12-04T15:25:00Z'), 0);
  assert.equal(newestFirst(undefined, undefined), 0);
  assert.ok(newestFirst(undefined, '2025-01-01T00:00:00Z') > 0, 'a missing time sorts after any time');
});
