import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedController, sharedSignal } from './shared-signal.js';

/** Node's listener-count warnings while `fn` runs. */
async function warningsDuring(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error) => seen.push(`${w.name}: ${w.message}`);
  process.on('warning', on);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

test('a plain signal with 11 listeners warns (what a build printed); a shared one with 50 does not', async () => {
  const plain = new AbortController().signal;
  assert.match((await warningsDuring(() => { for (let i = 0; i < 11; i++) plain.addEventListener('abort', () => undefined); })).join('\n'), /MaxListenersExceededWarning/);
  const parent = new AbortController();
  const shared = sharedSignal(parent.signal);
  const owned = sharedController();
  assert.deepEqual(await warningsDuring(() => {
    for (let i = 0; i < 50; i++) {
      shared.addEventListener('abort', () => undefined);
      owned.signal.addEventListener('abort', () => undefined);
    }
  }), []);
});

test('a shared signal aborts with its parent, with the parent\'s reason; without a parent it never aborts by itself', () => {
  const parent = new AbortController();
  const shared = sharedSignal(parent.signal);
  let heard: unknown;
  shared.addEventListener('abort', () => (heard = shared.reason));
  assert.equal(shared.aborted, false);
  const reason = new Error('build cancelled by SIGINT');
  parent.abort(reason);
  assert.equal(shared.aborted, true);
  assert.equal(heard, reason);
  assert.equal(sharedSignal().aborted, false);
  assert.equal(sharedSignal(AbortSignal.abort('gone')).reason, 'gone');
});
