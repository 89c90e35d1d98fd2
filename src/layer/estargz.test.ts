/**
 * eStargz blobs: a valid gzip stream whose tar is the layer's entries (plus the
 * no-prefetch landmark first and the TOC last), a TOC listing every entry with
 * offsets a reader can seek to and gunzip alone, chunk digests that match the
 * bytes, and the 51-byte footer pointing at the TOC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { toEstargz } from './estargz.js';
import { FOOTER_SIZE, parseEstargzFooter, type Toc } from './estargz-toc.js';
import { makeTar, tarEntries, type TarSpec } from './testing.js';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const big = Buffer.concat([randomBytes(150_000), Buffer.alloc(60_000, 'kiln ')]); // 210,000 bytes: 4 chunks of 64 KiB
const longName = `deep/${'d'.repeat(120)}/file.txt`;
const spec: TarSpec = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/hostname', body: 'kiln\n', uid: 1000, gid: 1000, uname: 'app', gname: 'app' },
  { name: 'etc/empty', body: '' },
  { name: 'data/', type: 'directory', mode: 0o700 },
  { name: 'data/big.bin', body: big, mode: 0o755 },
  { name: 'link', type: 'symlink', linkname: 'etc/hostname' },
  { name: 'hard', type: 'link', linkname: 'etc/hostname' },
  { name: longName, body: 'long\n', pax: { 'SCHILY.xattr.user.kiln': 'yes' } },
  { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
];

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('toEstargz: the gzip stream holds the layer tar (landmark first, TOC last); TOC offsets, chunks and footer are right', async () => {
  const layer = await collect(makeTar(spec));
  const { stream, result } = toEstargz(Readable.from([layer]), { chunkSize: 64 * 1024 });
  const blob = await collect(stream);
  const r = await result;

  // One gzip stream (many members): its tar is the layer's entries between the landmark and the TOC.
  const tar = gunzipSync(blob);
  assert.equal(r.diffId, sha(tar));
  assert.equal(r.uncompressedSize, tar.length);
  const got = await tarEntries(tar);
  const want = await tarEntries(layer);
  assert.equal(got[0]!.name, '.no.prefetch.landmark');
  assert.equal(got[0]!.sha, sha(Buffer.from([0x0f])));
  assert.equal(got.at(-1)!.name, 'stargz.index.json');
  assert.deepEqual(got.slice(1, -1), want);

  // The footer: 51 bytes naming the TOC member's offset; that member alone is a tar of the TOC.
  const tocOffset = parseEstargzFooter(blob.subarray(blob.length - FOOTER_SIZE));
  assert.ok(tocOffset !== undefined && tocOffset > 0 && tocOffset < blob.length - FOOTER_SIZE);
  assert.equal(gunzipSync(blob.subarray(blob.length - FOOTER_SIZE)).length, 0, 'the footer is an empty gzip member');
  const tocTar = await tarEntries(gunzipSync(blob.subarray(tocOffset, blob.length - FOOTER_SIZE)));
  assert.deepEqual(tocTar.map((e) => e.name), ['stargz.index.json']);
  const tocJson = gunzipSync(blob.subarray(tocOffset, blob.length - FOOTER_SIZE)).subarray(512, 512 + tocTar[0]!.size);
  assert.equal(r.tocDigest, sha(tocJson));
  const toc = JSON.parse(tocJson.toString()) as Toc;
  assert.equal(toc.version, 1);

  // Every entry listed, in order, with its type, mode bits, owners and links.
  const files = toc.entries.filter((e) => e.type !== 'chunk');
  assert.deepEqual(files.map((e) => [e.name, e.type]), [
    ['.no.prefetch.landmark', 'reg'], ['etc/', 'dir'], ['etc/hostname', 'reg'], ['etc/empty', 'reg'], ['data/', 'dir'], ['data/big.bin', 'reg'],
    ['link', 'symlink'], ['hard', 'hardlink'], [longName, 'reg'], ['dev/null', 'char'],
  ]);
  const by = (n: string) => files.find((e) => e.name === n)!;
  assert.equal(by('data/').mode, 0o40700);
  assert.equal(by('data/big.bin').mode, 0o100755);
  assert.deepEqual([by('etc/hostname').uid, by('etc/hostname').gid, by('etc/hostname').userName], [1000, 1000, 'app']);
  assert.equal(by('etc/hostname').modtime, '2020-09-13T12:26:40Z');
  assert.equal(by('link').linkName, 'etc/hostname');
  assert.equal(by('hard').linkName, 'etc/hostname');
  assert.deepEqual([by('dev/null').devMajor, by('dev/null').devMinor], [1, 3]);
  assert.deepEqual(by(longName).xattrs, { 'user.kiln': Buffer.from('yes').toString('base64') });
  assert.equal(by('etc/empty').offset, undefined);

  // Each file and chunk: seek to its offset, gunzip that member alone, the bytes are the file's and match chunkDigest.
  const withData = toc.entries.filter((e) => e.offset !== undefined);
  const ends = [...withData.slice(1).map((e) => e.offset!), tocOffset];
  const contents = new Map<string, Buffer[]>();
  withData.forEach((e, i) => {
    const member = gunzipSync(blob.subarray(e.offset!, ends[i]));
    const size = e.chunkSize || by(e.name).size! - (e.chunkOffset ?? 0); // the last (or only) chunk: the rest of the file
    const bytes = member.subarray(0, size);
    assert.equal(sha(bytes), e.chunkDigest, `${e.name}@${e.chunkOffset ?? 0}`);
    contents.set(e.name, [...(contents.get(e.name) ?? []), bytes]);
  });
  const chunks = toc.entries.filter((e) => e.name === 'data/big.bin');
  assert.deepEqual(chunks.map((e) => [e.type, e.chunkOffset ?? 0, e.chunkSize ?? 0]), [['reg', 0, 65536], ['chunk', 65536, 65536], ['chunk', 131072, 65536], ['chunk', 196608, 0]]);
  assert.deepEqual(Buffer.concat(contents.get('data/big.bin')!), big);
  assert.equal(by('data/big.bin').digest, sha(big));
  assert.equal(by('data/big.bin').size, big.length);
  assert.deepEqual(Buffer.concat(contents.get(longName)!).toString(), 'long\n');
});

test('toEstargz: a tar cut inside an entry fails with a data-loss error', async () => {
  const layer = await collect(makeTar(spec));
  const { stream, result } = toEstargz(Readable.from([layer.subarray(0, 3000)]));
  await assert.rejects(collect(stream), /ends inside/);
  await assert.rejects(result, /ends inside/);
});
