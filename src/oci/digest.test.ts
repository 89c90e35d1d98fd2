import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createDigester, sha256Digest, shortId, validateDigest } from './digest.js';

test('sha256Digest matches sha256sum', () => {
  const data = Buffer.from('hello kiln\n');
  const want = execFileSync('sha256sum', { input: data }).toString().split(' ')[0];
  assert.equal(sha256Digest(data), `sha256:${want}`);
  assert.equal(sha256Digest(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('createDigester hashes and counts while passing bytes through', async () => {
  const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i, i));
  const all = Buffer.concat(chunks);
  const d = createDigester();
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), d, new Writable({ write(c, _e, cb) { out.push(c); cb(); } }));
  assert.deepEqual(Buffer.concat(out), all);
  assert.equal(d.digest, sha256Digest(all));
  assert.equal(d.size, all.length);
  assert.deepEqual(await d.result, { digest: sha256Digest(all), size: all.length });
});

test('digest read before the end is an error', () => {
  assert.throws(() => createDigester().digest, /before the stream ended/);
});

test('validateDigest names what is wrong', () => {
  const ok = 'sha256:' + 'a'.repeat(64);
  assert.equal(validateDigest(ok), ok);
  assert.throws(() => validateDigest('sha256:' + 'a'.repeat(63), 'layers[1].digest'), /layers\[1\]\.digest: invalid digest "sha256:a{63}"/);
  assert.throws(() => validateDigest('sha256:' + 'A'.repeat(64)), /invalid digest/);
  assert.throws(() => validateDigest(42), /invalid digest 42/);
  assert.equal(shortId(ok), 'aaaaaaaaaaaa');
});
