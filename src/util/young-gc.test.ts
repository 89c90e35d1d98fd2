import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { downloaded, SCAVENGE_BYTES } from './young-gc.js';

const CHUNK = 64 << 10;

test('one scavenge per SCAVENGE_BYTES received, counted across calls', () => {
  while (!downloaded(CHUNK));
  let calls = 0;
  do calls++;
  while (!downloaded(CHUNK));
  assert.equal(calls, SCAVENGE_BYTES / CHUNK);
});

test('the scavenge is a minor GC of V8 (node reports it)', async () => {
  let minors = 0;
  const seen = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
  });
  seen.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < 3; i++) assert.ok(downloaded(SCAVENGE_BYTES));
  await new Promise((resolve) => setTimeout(resolve, 100));
  seen.disconnect();
  assert.ok(minors >= 3, `${minors} minor GCs reported`);
});
