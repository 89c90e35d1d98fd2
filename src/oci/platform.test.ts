import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, hostPlatform, matchPlatform, normalizePlatform, parsePlatform, selectManifest } from './platform.js';
import type { Index, Platform } from './types.js';

const p = (s: string): string => formatPlatform(parsePlatform(s));

test('parses and normalizes like containerd', () => {
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('windows/amd64'), { os: 'windows', architecture: 'amd64' });
  assert.equal(p('linux/arm64/v8'), 'linux/arm64/v8');
  assert.equal(p('linux/arm64'), 'linux/arm64/v8');
  assert.equal(p('linux/aarch64'), 'linux/arm64/v8');
  assert.equal(p('Linux/x86_64'), 'linux/amd64');
  assert.equal(p('linux/amd64/v1'), 'linux/amd64');
  assert.equal(p('linux/armhf'), 'linux/arm/v7');
  assert.equal(p('linux/armel'), 'linux/arm/v6');
  assert.equal(p('linux/arm'), 'linux/arm/v7');
  assert.equal(p('linux/arm/7'), 'linux/arm/v7');
  assert.equal(p('linux/i386'), 'linux/386');
  assert.equal(p('linux'), formatPlatform(hostPlatform()));
  assert.throws(() => parsePlatform('linux/amd64/v3/x'), /invalid platform "linux\/amd64\/v3\/x"/);
  assert.throws(() => parsePlatform('linux//amd64'), /invalid platform/);
});

test('hostPlatform follows process.arch', () => {
  const h = hostPlatform();
  assert.equal(h.os, 'linux');
  assert.equal(h.architecture, { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64'] ?? h.architecture);
  assert.deepEqual(normalizePlatform(h), h);
});

test('matches compatible platforms', () => {
  const P = parsePlatform;
  assert.ok(matchPlatform(P('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' }));
  assert.ok(matchPlatform(P('linux/arm/v7'), P('linux/arm/v6')));
  assert.ok(!matchPlatform(P('linux/arm/v6'), P('linux/arm/v7')));
  assert.ok(matchPlatform(P('linux/arm64'), P('linux/arm/v7')));
  assert.ok(matchPlatform(P('linux/amd64/v3'), P('linux/amd64')));
  assert.ok(!matchPlatform(P('linux/amd64'), P('linux/amd64/v3')));
  assert.ok(!matchPlatform(P('linux/amd64'), P('windows/amd64')));
  assert.ok(!matchPlatform(P('linux/amd64'), P('linux/arm64')));
});

const d = (platform: Platform, c: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + c.repeat(64), size: 1, platform });

test('selectManifest prefers the exact variant, then the closest compatible', () => {
  const ix: Index = {
    schemaVersion: 2,
    manifests: [
      d({ os: 'linux', architecture: 'amd64' }, 'a'),
      d({ os: 'linux', architecture: 'arm', variant: 'v6' }, 'b'),
      d({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'c'),
      d({ os: 'linux', architecture: 'arm64' }, 'd'),
      d({ os: 'unknown', architecture: 'unknown' }, 'e'),
      d({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.5329' }, 'f'),
    ],
  };
  assert.equal(selectManifest(ix, parsePlatform('linux/arm/v7')).digest, 'sha256:' + 'c'.repeat(64));
  assert.equal(selectManifest(ix, parsePlatform('linux/arm/v8')).digest, 'sha256:' + 'c'.repeat(64));
  assert.equal(selectManifest(ix, parsePlatform('linux/arm64/v8')).digest, 'sha256:' + 'd'.repeat(64));
  assert.equal(selectManifest(ix, parsePlatform('windows/amd64')).digest, 'sha256:' + 'f'.repeat(64));
  const noV7 = { ...ix, manifests: ix.manifests.filter((m) => m.platform?.variant !== 'v7' && m.platform?.architecture !== 'arm64') };
  assert.equal(selectManifest(noV7, parsePlatform('linux/arm/v7')).digest, 'sha256:' + 'b'.repeat(64));
  assert.equal(selectManifest(noV7, parsePlatform('linux/arm64')).digest, 'sha256:' + 'b'.repeat(64));
  assert.throws(
    () => selectManifest(ix, parsePlatform('linux/s390x')),
    (e: Error & { code?: string }) =>
      e.code === 'NOT_FOUND' && e.message === 'image index: no manifest for platform linux/s390x; available: linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64, windows/amd64',
  );
});
