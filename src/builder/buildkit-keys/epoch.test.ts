/**
 * SOURCE_DATE_EPOCH in BuildKit's keys (v0.34.2). Origin: buildkitd
 * --save-cache-debug and `buildctl build --frontend dockerfile.v0 --opt
 * build-arg:SOURCE_DATE_EPOCH=1700000000` of
 *   FROM <registry>/base/busybox:1
 *   WORKDIR /app
 *   RUN echo hi > x
 *   COPY f.txt ./
 * Only the mkdir of WORKDIR carries the epoch (its action's timestamp, in
 * nanoseconds); the RUN's and the COPY's ops are the ones a build without it has,
 * and the image source's key is {Digest, OS, Arch} as ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execDigest, mkdirDigest } from './keys.js';
import { copyOpDigest } from './copy-action.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

test('SOURCE_DATE_EPOCH: WORKDIR\'s mkdir carries the epoch in nanoseconds; RUN and COPY keys are unchanged', () => {
  assert.equal(mkdirDigest('/app', 1700000000), 'sha256:99092b69573d892f18fbcf76b2b3951950b3813340ebd1bcbd3abf90d4540e46');
  assert.notEqual(mkdirDigest('/app', 1700000000), mkdirDigest('/app'));
  assert.equal(execDigest({ args: ['/bin/sh', '-c', 'echo hi > x'], env: [PATH], cwd: '/app' }, amd64), 'sha256:b155a9617cca9ab0e7e1011a0ea8576e396de7b712ef117386d5897226e205bd');
  assert.equal(copyOpDigest({ src: 'f.txt', dest: '/app/' }), 'sha256:eb0046dd904274680ebe565171f5411131b1ae8b607cb8c0eebabc19e853046d');
});
