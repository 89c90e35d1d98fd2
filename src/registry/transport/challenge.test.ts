import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges, pickChallenge } from './challenge.js';

test('parses a Bearer challenge with quoted params containing commas and colons', () => {
  const h = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"';
  assert.deepEqual(parseChallenges(h), [
    { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' } },
  ]);
});

test('parses several challenges and prefers Bearer', () => {
  const h = 'Basic realm="basic-realm", Bearer realm="http://x/token",error="insufficient_scope"';
  assert.equal(parseChallenges(h).length, 2);
  assert.deepEqual(pickChallenge(h), { scheme: 'bearer', params: { realm: 'http://x/token', error: 'insufficient_scope' } });
  assert.deepEqual(pickChallenge('Basic realm="r"'), { scheme: 'basic', params: { realm: 'r' } });
  assert.equal(pickChallenge(''), undefined);
  assert.equal(pickChallenge(null), undefined);
});

test('unquoted values and escaped quotes', () => {
  assert.deepEqual(parseChallenges('Bearer realm=http://t/token, service="a\\"b"'), [
    { scheme: 'bearer', params: { realm: 'http://t/token', service: 'a"b' } },
  ]);
});
