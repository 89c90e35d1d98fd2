/**
 * BuildKit's content checksums of context directories and the COPY records
 * on them, each value as a real buildkitd v0.34.2 computed it. Origin:
 * `buildkitd --save-cache-debug` (cache-debug.db: the "file", "file-list" and
 * "digest-list" plaintexts behind each digest), `buildctl build --frontend
 * dockerfile.v0` of
 *   FROM scratch
 *   COPY src/ /app/src/
 *   COPY . /app
 * on the context below (root-owned, made by hand), then again after adding
 * src/link → a.txt, src/empty/ (0700) and src/run.sh (0755, owned 1000:1000:
 * BuildKit's client sends it as 0:0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { contentRecord, rootKey, sha256 } from './keys.js';
import { copyOpDigest } from './copy-action.js';
import { dirChecksum, entryHeader, treeChecksum } from './tree-checksum.js';
import { measuredContext } from './measured-context.js';

const context = (): string => measuredContext('kiln-bk-tree-');

test("a directory's header and a symlink's: BuildKit's header checksums", () => {
  assert.equal(sha256(entryHeader({ mode: 0o40755, size: 0, typeflag: '5' })), 'sha256:1a2805521573cb10d73bcd51d16bfa84c8f461d68599740e35484b90b2ab1bab');
  assert.equal(sha256(entryHeader({ mode: 0o40700, size: 0, typeflag: '5' })), 'sha256:82b8bf7ff775f32914df9c7cc50ee9551ede3c2d6510e9ff99e7176220f3d247');
  assert.equal(sha256(entryHeader({ mode: 0o777, size: 0, typeflag: '2', linkname: 'a.txt' })), 'sha256:653b232d38441e60f35673ca781dca8fd169229d6500fa11cd461a7e10e02789');
  // An empty directory: its header alone.
  assert.equal(dirChecksum('sha256:82b8bf7ff775f32914df9c7cc50ee9551ede3c2d6510e9ff99e7176220f3d247', []), 'sha256:9e60a208f523fef83a27ac11067d81984e174e5c7a82dabe8d46d4e760740319');
});

test("directory checksums (src/, src/sub, the context's root) and COPY's records: BuildKit's values", async () => {
  const dir = context();
  try {
    assert.equal(await treeChecksum(path.join(dir, 'src', 'sub')), 'sha256:c8dd717066b7809d9bf6023efeac0fcdc8922f7039d1e0df89a383893907242c');
    const src = await treeChecksum(path.join(dir, 'src'));
    assert.equal(src, 'sha256:8b57b650273aa17a74bb7f8633e0d8af27bf0a9dbe3b82a99eaf4317def58fdb');
    const root = await treeChecksum(dir, true);
    assert.equal(root, 'sha256:241dfd87ee84129f44fb66231479351750fa750eeeb4559dd7be294d6302bba1');
    assert.equal(contentRecord([src!]), 'sha256:de14f66143807931a1aabb48f5692dc67d12578b249b2750d8fd0ff16157efd0');
    assert.equal(contentRecord([root!]), 'sha256:6df56abc3f090b32ea50d26b2ccbc0ca447e85807c738f38d9c27e62f409cea6');
    // COPY . /app: the action's src is "/" (path.Base of the root).
    assert.equal(copyOpDigest({ src: '/', dest: '/app' }), 'sha256:e75b2a2883be1b0513253bbae423dc22f11b1bf89bdc3766703f6a77dc6dd757');
    assert.equal(rootKey(copyOpDigest({ src: '/', dest: '/app' }), 0), 'sha256:d773579a84f0550bbc66497c90e917950ba20a9bdbb6e22ae20365fced0b8254');

    // Second build: a symlink (not followed), an empty 0700 directory, an executable owned 1000:1000.
    symlinkSync('a.txt', path.join(dir, 'src', 'link'));
    mkdirSync(path.join(dir, 'src', 'empty'));
    chmodSync(path.join(dir, 'src', 'empty'), 0o700);
    writeFileSync(path.join(dir, 'src', 'run.sh'), '#!/bin/sh\n');
    chmodSync(path.join(dir, 'src', 'run.sh'), 0o755);
    chownSync(path.join(dir, 'src', 'run.sh'), 1000, 1000);
    assert.equal(await treeChecksum(path.join(dir, 'src', 'run.sh')), 'sha256:b59f2879a8c12ad604e2b8199ff000176504a245091da93e42fdbbab8cfa75ec');
    assert.equal(await treeChecksum(path.join(dir, 'src')), 'sha256:2c01ffcbc77755d1bba40b4805a4aa85ef564ab1221fa55de12adf50bcc18201');
    assert.equal(await treeChecksum(dir, true), 'sha256:f977dff1f77bb911f5a4cfdd8bed58ca06c03244a0406cf7d10ddc1810a58aeb');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a changed byte, mode or name changes the directory checksum; a time does not', async () => {
  const dir = context();
  try {
    const before = await treeChecksum(path.join(dir, 'src'));
    utimesSync(path.join(dir, 'src', 'a.txt'), 1, 1);
    assert.equal(await treeChecksum(path.join(dir, 'src')), before);
    chmodSync(path.join(dir, 'src', 'a.txt'), 0o600);
    assert.notEqual(await treeChecksum(path.join(dir, 'src')), before);
    chmodSync(path.join(dir, 'src', 'a.txt'), 0o644);
    renameSync(path.join(dir, 'src', 'a-b'), path.join(dir, 'src', 'a-c'));
    assert.notEqual(await treeChecksum(path.join(dir, 'src')), before);
    renameSync(path.join(dir, 'src', 'a-c'), path.join(dir, 'src', 'a-b'));
    assert.equal(await treeChecksum(path.join(dir, 'src')), before);
    writeFileSync(path.join(dir, 'src', 'sub', 'b.txt'), 'bbc\n');
    assert.notEqual(await treeChecksum(path.join(dir, 'src')), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
