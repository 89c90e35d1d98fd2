/**
 * A multi-platform build's keys (v0.34.2). Origin: buildkitd
 * --save-cache-debug and `buildctl build --frontend dockerfile.v0 --opt
 * platform=linux/amd64,linux/arm64` of
 *   FROM --platform=$BUILDPLATFORM <registry>/base/busybox:1 AS build
 *   ARG TARGETARCH
 *   RUN echo $TARGETARCH > /arch
 *   FROM <registry>/base/busybox:1
 *   COPY --from=build /arch /arch
 *   RUN cat /arch > /arch2
 * (the base an amd64 image, manifest sha256:48b84a52…). Each platform's image
 * source and RUN carry that platform; the $BUILDPLATFORM stage's RUN is amd64
 * for both, told apart by TARGETARCH in its env.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execDigest, imageSourceDigest } from './keys.js';
import { buildkitPlatform } from './platform.js';

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BASE = 'sha256:48b84a5215f5ec8c3562d9179d64071e9ba7b1dc978879c01ab0f361dc90bb63';
const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };

test('multi-platform: the image source per target platform', () => {
  assert.equal(imageSourceDigest(BASE, amd64), 'sha256:19044591bef9e8d6785a8eb827bbb5fb433c6b9763ab4ad12e20a16dbf85a2e5');
  assert.equal(imageSourceDigest(BASE, arm64), 'sha256:1ffa4560b19b4c1db6f5807396cca1b610bc4c7d80895833cfb00c5526f0f844');
});

test('multi-platform: a target stage\'s RUN per platform; a $BUILDPLATFORM stage\'s RUN on amd64 with each TARGETARCH', () => {
  const run = { args: ['/bin/sh', '-c', 'cat /arch > /arch2'], env: [PATH], cwd: '/' };
  assert.equal(execDigest(run, amd64), 'sha256:8a2e0bdd10c3ed80bfbc39ff52fa5f418d3e57038f6acdc4bb648b42b14d695b');
  assert.equal(execDigest(run, arm64), 'sha256:86f787be768d011c008a13a09e6f29aea6997391e01764570f222f90d7292a38');
  const cross = (arch: string) => execDigest({ args: ['/bin/sh', '-c', 'echo $TARGETARCH > /arch'], env: [PATH, `TARGETARCH=${arch}`], cwd: '/' }, amd64);
  assert.equal(cross('amd64'), 'sha256:cdb03f8ccc4cd82c836f75288226fb606da2338a4ee1e33dd41740692494a248');
  assert.equal(cross('arm64'), 'sha256:672dd0ff33736eadcbef4951de2c79d0d39c634ed20004987b8983140fdec5a8');
});

test("kiln's linux/arm64 (variant v8 spelled out) is BuildKit's arm64 with no variant; arm/v7 keeps its variant", () => {
  assert.deepEqual(buildkitPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), arm64);
  assert.equal(imageSourceDigest(BASE, buildkitPlatform({ os: 'linux', architecture: 'aarch64' })), 'sha256:1ffa4560b19b4c1db6f5807396cca1b610bc4c7d80895833cfb00c5526f0f844');
  assert.deepEqual(buildkitPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
});
