/**
 * BuildKit's cache keys, each checked against the value a real buildkitd
 * v0.34.2 computed. Origin: `buildkitd --save-cache-debug` (its cache-debug.db
 * keeps each digest's plaintext) and `buildctl build --frontend dockerfile.v0
 * --export-cache type=local,mode=max` of
 *   FROM <registry>/base/busybox:1             (manifest sha256:f4a08d9c…, linux/amd64)
 *   RUN echo hi > /x
 * and of
 *   FROM <registry>/base/busybox:1
 *   ENV X=1 Y="a b"
 *   ARG A=5
 *   WORKDIR /app
 *   RUN echo "$X" > /x && ls
 *   COPY f.txt ./
 *   RUN cat f.txt
 * (f.txt = "hello\n", mode 0644, owned by root).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Descriptor } from '../../oci/types.js';
import type { CacheConfig } from '../cache-config.js';
import { goJson } from './go-json.js';
import { contentRecord, execDigest, fileHeader, imageSourceDigest, mkdirDigest, rootKey, ROOT_SELECTOR, sha256 } from './keys.js';
import { copyOpDigest } from './copy-action.js';
import { resolveDest } from './copy-chain.js';
import { baseChain, runChain, workdirChain } from './step.js';
import { decodeBuildkitChains } from './chains.js';
import { buildkitStepOn } from './stage-chain.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BUSYBOX = 'sha256:f4a08d9cc68ba7b48257659241f8cab4ceb141fd4e197cd15418e163afbdcc8f';

test("goJson escapes as Go's encoding/json: <, >, & and U+2028/2029", () => {
  assert.equal(goJson({ a: ['echo "$X" > /x && ls', '\u2028'] }), '{"a":["echo \\"$X\\" \\u003e /x \\u0026\\u0026 ls","\\u2028"]}');
});

test('image source: the manifest key, the source op digest, the root record', () => {
  assert.equal(imageSourceDigest(BUSYBOX, amd64), 'sha256:6a2b463551ff345f6da6b83082a9cff9122df4e64b5329790c5321bf2ad88471');
  assert.equal(rootKey(imageSourceDigest(BUSYBOX, amd64), 0), 'sha256:c6eff6182d3e1cd31a24eb31513c8ab88ac1b50124109fb0987411cc0e80d9cb');
});

test('exec (RUN): op digest and record digest, with the stage env, ARGs after ENVs, WORKDIR', () => {
  const plain = execDigest({ args: ['/bin/sh', '-c', 'echo hi > /x'], env: [PATH], cwd: '/' }, amd64);
  assert.equal(plain, 'sha256:f84fd2d1f8a589b7f6d30045897e0f2add1621dc01e45a2bdc0f1be4eab73ecd');
  assert.equal(rootKey(plain, 0), 'sha256:e60c6b94022f7fe8fe36244c3ce6f56db7f5fdb1699f02060440f673ccdd0339');
  const withEnv = execDigest({ args: ['/bin/sh', '-c', 'echo "$X" > /x && ls'], env: [PATH, 'X=1', 'Y=a b', 'A=5'], cwd: '/app' }, amd64);
  assert.equal(withEnv, 'sha256:3b42d4e04286ced2c2182b35bee6b75bfd6500f4aa0571d1e7ab0b4cb33bbef0');
  assert.equal(rootKey(withEnv, 0), 'sha256:7561161ce2450ebf5ee94aa6eb9b3e50868d43b454699f0d9b98a00d878e40cb');
  const after = execDigest({ args: ['/bin/sh', '-c', 'cat f.txt'], env: [PATH, 'X=1', 'Y=a b', 'A=5'], cwd: '/app' }, amd64);
  assert.equal(rootKey(after, 0), 'sha256:adfb709952097225ad1d5f3de95cc1c327c0e274cf507aba2af1ca14ed390415');
  // The selector on the exec's link to its root mount's input.
  assert.equal(ROOT_SELECTOR, 'sha256:8a5edab282632443219e051e4ade2d1d5bbc671c781051bf1437897cbdfea0f1');
});

test('file op (WORKDIR /app): the mkdir action, op digest and record digest', () => {
  assert.equal(mkdirDigest('/app'), 'sha256:7ea5325d7cca0cfc78567c2d7347cc6dac674e45bef5edb2a83f5b7cf188ff3a');
  assert.equal(rootKey(mkdirDigest('/app'), 0), 'sha256:807b3e8722c68572736f54d83fd741a5b1d69ccbef218fae52b4149a56d232ce');
});

test('file op (COPY f.txt ./ after WORKDIR /app): the copy action, the content checksum of f.txt ("hello\\n", 0644, root), the records', () => {
  assert.equal(resolveDest('/app', './'), '/app/');
  assert.equal(copyOpDigest({ src: 'f.txt', dest: resolveDest('/app', './') }), 'sha256:eb0046dd904274680ebe565171f5411131b1ae8b607cb8c0eebabc19e853046d');
  assert.equal(rootKey(copyOpDigest({ src: 'f.txt', dest: '/app/' }), 0), 'sha256:ae9efd33c91a52811d9f8d49aa73503de7d45b37017c42f705a9ce5875790878');
  const checksum = sha256(fileHeader({ mode: 0o100644, uid: 0, gid: 0, size: 6 }) + 'hello\n');
  assert.equal(checksum, 'sha256:09eefdc91e8894bc767daae7daa5a4e8cbf396610f10ae20604d9086c76d4a93');
  assert.equal(contentRecord([checksum]), 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e');
});

test('COPY destinations resolved as the frontend does (NormalizePath, trailing slash kept)', () => {
  assert.deepEqual(
    [resolveDest('/', '.'), resolveDest('/app', 'x.txt'), resolveDest('/app', '/etc/'), resolveDest('/app', '../y/'), resolveDest('/', '/'), resolveDest('/a', 'b/.')],
    ['/', '/app/x.txt', '/etc/', '/y/', '/', '/a/b/.'],
  );
});

// The second build's exported cache config, as buildkitd wrote it, and its layer descriptors (diff IDs annotated).
const blob = (digest: string, diffId: string): Descriptor => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: 1, annotations: { 'containerd.io/uncompressed': diffId } });
const BLOBS = [
  blob('sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1', 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'),
  blob('sha256:7b8f30519da8d649b2b4342559258bb655ac8a6050f676412ea6146ea3e0dc1e', 'sha256:36bf71b8a79586c2292585998ebd9d7cae32362ff82c97aeae1151c097659053'),
  blob('sha256:cbfb31422c17a453c5d5a1995859f0798f4e263573628f04ba0c14ca0dda9023', 'sha256:c14838b11f4a477b708e88f9bd00d1efa5621b66ceb5e6ae0371360867fe36ee'),
  blob('sha256:db0a67b80e9cf55344f0ed36ab165152bf64be8a6cedc7e171d888c0d9199d26', 'sha256:aad5ba73bd14dacec9b14a35fbea48eae4e2f5f1ecc5e94af4242198439fbd15'),
  blob('sha256:fcda09d772a414dc6a40d5410e37e8073f82a48c7c1e1ee128427a82693178e0', 'sha256:d4ca926b583a1a172781189babf70662a98e5d1fe3cacb8c8766469525acc9d9'),
];
const CONFIG: CacheConfig = {
  layers: [
    { blob: BLOBS[0]!.digest, parent: 3 },
    { blob: BLOBS[1]!.digest, parent: 4 },
    { blob: BLOBS[2]!.digest, parent: 1 },
    { blob: BLOBS[3]!.digest, parent: 2 },
    { blob: BLOBS[4]!.digest, parent: -1 },
  ],
  records: [
    { layers: [{ layer: 2, createdAt: '2026-12-04T12:29:19.969307488Z' }], digest: 'sha256:7561161ce2450ebf5ee94aa6eb9b3e50868d43b454699f0d9b98a00d878e40cb', inputs: [[{ selector: ROOT_SELECTOR, link: 1 }]] },
    { layers: [{ layer: 1, createdAt: '2026-12-04T12:29:19.889923406Z' }], digest: 'sha256:807b3e8722c68572736f54d83fd741a5b1d69ccbef218fae52b4149a56d232ce', inputs: [[{ link: 5 }]] },
    { layers: [{ layer: 0, createdAt: '2026-12-04T12:29:20.051955951Z' }], digest: 'sha256:adfb709952097225ad1d5f3de95cc1c327c0e274cf507aba2af1ca14ed390415', inputs: [[{ selector: ROOT_SELECTOR, link: 3 }]] },
    { layers: [{ layer: 3, createdAt: '2026-12-04T12:29:19.977692635Z' }], digest: 'sha256:ae9efd33c91a52811d9f8d49aa73503de7d45b37017c42f705a9ce5875790878', inputs: [[{ link: 0 }], [{ link: 4 }]] },
    { digest: 'sha256:c24a47b576469b52903dd7e5045a62fee5855b447dee1771d67b829458d2c08e' },
    { digest: 'sha256:c6eff6182d3e1cd31a24eb31513c8ab88ac1b50124109fb0987411cc0e80d9cb' },
  ],
};

test("BuildKit's config read as chains: kiln's chain names for FROM, WORKDIR, RUN find each step's layer on the base's", () => {
  const steps = decodeBuildkitChains(CONFIG, new Map(BLOBS.map((b) => [b.digest, b])), 'test');
  const base = baseChain(BUSYBOX, amd64);
  const wd = workdirChain(base, '/app');
  const run = runChain(wd, { args: ['/bin/sh', '-c', 'echo "$X" > /x && ls'], env: [PATH, 'X=1', 'Y=a b', 'A=5'], cwd: '/app' }, amd64);
  const baseDiff = [BLOBS[4]!.annotations!['containerd.io/uncompressed']!];
  const w = buildkitStepOn(steps.get(wd)!, baseDiff);
  assert.equal(w?.layer?.descriptor.digest, BLOBS[1]!.digest);
  const r = buildkitStepOn(steps.get(run)!, [...baseDiff, w!.layer!.diffId]);
  assert.deepEqual([r?.layer?.descriptor.digest, r?.created], [BLOBS[2]!.digest, '2026-12-04T12:29:19.969307488Z']);
  // The same op on another chain, or the record on another base, is no step.
  assert.equal(steps.get(runChain(base, { args: ['/bin/sh', '-c', 'echo "$X" > /x && ls'], env: [PATH, 'X=1', 'Y=a b', 'A=5'], cwd: '/app' }, amd64)), undefined);
  assert.equal(buildkitStepOn(steps.get(run)!, baseDiff), undefined);
  assert.equal(steps.get(workdirChain(baseChain(BUSYBOX, { os: 'linux', architecture: 'arm64' }), '/app')), undefined);
});
