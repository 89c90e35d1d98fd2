import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { compressLayer, decompress, type Codec } from './compress.js';
import { makeTar } from './testing.js';
import { sha256Digest } from '../oci/digest.js';

const big = Buffer.concat([randomBytes(200_000), Buffer.alloc(500_000, 'kiln ')]);
const layerTar = (): Readable =>
  makeTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hostname', body: 'kiln\n' },
    { name: 'data/big.bin', body: big },
    { name: 'link', type: 'symlink', linkname: 'etc/hostname' },
  ]);
const sum = (file: string, via?: string[]): string =>
  'sha256:' + execFileSync('sh', ['-c', via ? `${via.join(' ')} < "$0" | sha256sum` : 'sha256sum < "$0"', file]).toString().split(' ')[0];

for (const [codec, decompressCmd] of [['gzip', ['gzip', '-dc']], ['zstd', ['zstd', '-dcq']], ['none', ['cat']]] as [Codec, string[]][]) {
  test(`${codec}: one pass gives diffID and digest that the real tools agree with`, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kiln-compress-'));
    const file = path.join(dir, 'layer');
    const { stream, result } = compressLayer(layerTar(), codec);
    await pipeline(stream, createWriteStream(file));
    const r = await result;
    assert.equal(r.digest, sum(file));
    assert.equal(r.diffId, sum(file, decompressCmd));
    assert.equal(r.size, (await readFile(file)).length);
    assert.equal(r.mediaType, { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar' }[codec]);
    if (codec === 'none') assert.equal(r.digest, r.diffId);
    else assert.ok(r.size < r.uncompressedSize / 1.5, `${codec} compresses (${r.size} of ${r.uncompressedSize})`);
    const listing = execFileSync('sh', ['-c', `${decompressCmd.join(' ')} < "$0" | tar -tvf -`, file]).toString();
    assert.match(listing, /^drwxr-xr-x 0\/0 +0 2020-09-13 \d\d:\d\d etc\/$/m);
    assert.match(listing, /^-rw-r--r-- 0\/0 +700000 .* data\/big.bin$/m);
    assert.match(listing, /^lrw-r--r-- 0\/0 +0 .* link -> etc\/hostname$/m);
    // decompress sniffs the codec and gives back the tar whose digest is the diffID
    const back = await decompress(createReadStream(file));
    const chunks: Buffer[] = [];
    for await (const c of back) chunks.push(c as Buffer);
    assert.equal(sha256Digest(Buffer.concat(chunks)), r.diffId);
    await rm(dir, { recursive: true });
  });
}

test('decompress rejects a blob that contradicts its media type, and corrupt data', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-compress-'));
  const gz = path.join(dir, 'l.gz');
  const { stream } = compressLayer(layerTar(), 'gzip');
  await pipeline(stream, createWriteStream(gz));
  await assert.rejects(decompress(createReadStream(gz), 'application/vnd.oci.image.layer.v1.tar+zstd'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'DATA_LOSS');
    assert.equal(e.message, 'layer claims application/vnd.oci.image.layer.v1.tar+zstd but its bytes are gzip');
    return true;
  });
  const drain = async (r: Readable): Promise<void> => {
    for await (const _ of r);
  };
  const bytes = await readFile(gz);
  await writeFile(gz, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(drain(await decompress(createReadStream(gz), 'application/vnd.docker.image.rootfs.diff.tar.gzip')), /unexpected end of file/);
  const zst = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(1000)]);
  await assert.rejects(drain(await decompress(Readable.from([zst]))), /zstd decompression failed \(exit 1\): .+/);
  // an empty blob is an empty (plain) stream
  const empty = await decompress(Readable.from([]));
  assert.deepEqual(await empty.toArray(), []);
  await rm(dir, { recursive: true });
});

test('a failing source fails both the stream and the result', async () => {
  const src = new Readable({ read() { this.destroy(new Error('disk gone')); } });
  const { stream, result } = compressLayer(src, 'zstd');
  await assert.rejects(stream.toArray(), /disk gone/);
  await assert.rejects(result, /disk gone/);
});

test('gzip of a stored layer read through reused buffers: each read buffer is given back once zlib has taken it, and read into again; the bytes are right', async () => {
  const { open } = await import('node:fs/promises');
  const { Transform } = await import('node:stream');
  const { gunzipSync } = await import('node:zlib');
  const { PooledFileReader } = await import('../content/pooled-reader.js');
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-compress-'));
  try {
    const file = path.join(dir, 'layer');
    const data = Buffer.from(randomBytes(9 << 20).toString('base64')); // 12 MiB, gzip leaves ~3/4
    await writeFile(file, data);
    let chunks = 0;
    const buffers = new Set<ArrayBufferLike>();
    // Sees the reader's chunks on their way in, passed on as they are (the same buffers).
    const seen = new Transform({
      transform(c: Buffer, _e, cb) {
        chunks++;
        buffers.add(c.buffer);
        cb(null, c);
      },
    });
    const { stream, result } = compressLayer(new PooledFileReader(await open(file, 'r')).pipe(seen), 'gzip');
    const parts: Buffer[] = [];
    for await (const c of stream) parts.push(c as Buffer);
    const r = await result;
    assert.ok(gunzipSync(Buffer.concat(parts)).equals(data));
    assert.equal(r.diffId, sha256Digest(data));
    assert.equal(r.digest, sha256Digest(Buffer.concat(parts)));
    assert.ok(chunks >= 12 && buffers.size < chunks / 2, `${chunks} chunks through ${buffers.size} buffers`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
