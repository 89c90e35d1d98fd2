import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyValues } from './key-values.js';

test('--build-arg/--label pairs: values may hold =, a later pair wins; a bare build arg comes from the environment (left out when unset)', () => {
  process.env.KILN_KV_TEST = 'from-env';
  delete process.env.KILN_KV_UNSET;
  assert.deepEqual(keyValues(['A=1', 'B=x=y', 'A=2', 'E=', 'KILN_KV_TEST', 'KILN_KV_UNSET'], '--build-arg', true), { A: '2', B: 'x=y', E: '', KILN_KV_TEST: 'from-env' });
  assert.deepEqual(keyValues(['org.example.v=1'], '--label', false), { 'org.example.v': '1' });
});

test('an empty name, or a bare label, is one line naming the flag', () => {
  assert.throws(() => keyValues(['=1'], '--build-arg', true), /^Error: --build-arg =1: the name is empty$|--build-arg =1: the name is empty/);
  assert.throws(() => keyValues(['=1'], '--label', false), /--label =1: the name is empty/);
  assert.throws(() => keyValues(['bare'], '--label', false), /--label bare: expected NAME=VALUE/);
});
