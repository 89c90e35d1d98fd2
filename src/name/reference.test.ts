import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarString, formatReference, parseNormalizedNamed, parseReference } from './reference.js';

const d = 'sha256:' + 'a'.repeat(64);

test('normalizes like docker', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['user/app:1.0', 'docker.io/user/app:1.0'],
    ['index.docker.io/library/alpine', 'docker.io/library/alpine:latest'],
    ['localhost:5000/a/b', 'localhost:5000/a/b:latest'],
    ['localhost/a', 'localhost/a:latest'],
    ['127.0.0.1:5000/x:v1', '127.0.0.1:5000/x:v1'],
    [`host.example/x@${d}`, `host.example/x@${d}`],
    [`busybox:1@${d}`, `docker.io/library/busybox:1@${d}`],
    ['[::1]:5000/img', '[::1]:5000/img:latest'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseNormalizedNamed(input)), want, input);
});

test('familiar form drops docker.io/library', () => {
  assert.equal(familiarString(parseNormalizedNamed('docker.io/library/busybox')), 'busybox:latest');
  assert.equal(familiarString(parseNormalizedNamed('localhost:5000/a')), 'localhost:5000/a:latest');
});

test('rejects bad references with a reason', () => {
  assert.throws(() => parseReference(''), /empty reference/);
  assert.throws(() => parseReference('Busybox'), /must be lowercase/);
  assert.throws(() => parseReference('busybox@sha256:abc'), /bad sha256 digest/);
  assert.throws(() => parseReference('a/b:'), /bad tag/);
  assert.throws(() => parseReference('a//b'), /bad repository name component/);
  assert.throws(() => parseReference('x'.repeat(300)), /longer than 255/);
  assert.throws(() => parseReference('a/b:-x'), /bad tag/);
});
