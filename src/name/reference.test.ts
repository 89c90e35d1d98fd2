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

test('grammar cases from the distribution reference spec', () => {
  const ok: [string, string][] = [
    [`localhost:5000/a/b:tag@${d}`, `localhost:5000/a/b:tag@${d}`],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/user/app', 'docker.io/user/app:latest'],
    ['Example.COM:443/foo/bar', 'Example.COM:443/foo/bar:latest'],
    ['FOO/bar', 'FOO/bar:latest'],
    ['[2001:db8::1]:5000/foo:v2', '[2001:db8::1]:5000/foo:v2'],
    ['[2001:db8::1]/foo', '[2001:db8::1]/foo:latest'],
    ['a.b-c.d/e__f/g.h/i---j', 'a.b-c.d/e__f/g.h/i---j:latest'],
    ['localhost:5000', 'docker.io/library/localhost:5000'],
    ['x/' + 'a'.repeat(253), 'docker.io/x/' + 'a'.repeat(253) + ':latest'],
    ['busybox:' + 'T'.repeat(128), 'docker.io/library/busybox:' + 'T'.repeat(128)],
    [`busybox@sha512:${'c'.repeat(128)}`, `docker.io/library/busybox@sha512:${'c'.repeat(128)}`],
  ];
  for (const [input, want] of ok) assert.equal(formatReference(parseNormalizedNamed(input)), want, input);
  const r = parseReference(`localhost:5000/a/b:tag@${d}`);
  assert.deepEqual({ ...r }, { domain: 'localhost:5000', path: 'a/b', tag: 'tag', digest: d });
  assert.equal(familiarString(parseNormalizedNamed('docker.io/user/app')), 'user/app:latest');
  assert.equal(familiarString(parseNormalizedNamed(`busybox@${d}`)), `busybox@${d}`);
});

test('rejects what docker rejects', () => {
  const bad: [string, RegExp][] = [
    ['foo/BAR', /repository name "foo\/BAR" must be lowercase/],
    ['docker.io/Library/busybox', /must be lowercase/],
    ['x/' + 'a'.repeat(254), /longer than 255/],
    ['busybox:' + 'a'.repeat(129), /bad tag/],
    [`busybox@sha256:${'a'.repeat(63)}`, /bad sha256 digest/],
    [`busybox@sha256:${'a'.repeat(65)}`, /bad sha256 digest/],
    [`busybox@sha256:${'A'.repeat(64)}`, /bad sha256 digest/],
    ['busybox@sha256:', /bad digest/],
    ['busybox@', /bad digest/],
    [`busybox@${d}@${d}`, /bad digest/],
    ['localhost:abc/foo', /bad registry host "localhost:abc"/],
    ['-host.com/foo', /bad registry host/],
    ['host.com:5000/', /bad repository name component ""/],
    ['[fe80::1%eth0]:5000/foo', /bad registry host/],
    ['a/b/', /bad repository name component ""/],
    ['a/_b', /bad repository name component "_b"/],
    ['a/b_', /bad repository name component "b_"/],
    ['a/b___c', /bad repository name component/],
    [' busybox', /whitespace/],
    ['busybox :1', /whitespace/],
    ['a'.repeat(64), /cannot be a 64-character hexadecimal string/],
    [':tag', /empty repository name/],
    ['@' + d, /empty repository name/],
  ];
  for (const [input, re] of bad) assert.throws(() => parseNormalizedNamed(input), re, input);
});
