/**
 * The tar writer against tar-stream's pack: the same headers and bodies give
 * the same bytes (so layer digests did not change when diffs moved to it),
 * over the cases layers meet: long and non-ASCII names and link names, the
 * ustar prefix split, ids and sizes beyond their octal fields, devices, modes
 * of 0, PAX records, and bodies that do not fill a block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pack, type Header } from 'tar-stream';
import { TarWriter } from './tar-writer.js';
import { packMode, type PaxHeaders } from './tar.js';

const mtime = new Date(1_700_000_000_000);
const long = (n: number, unit = 'd') => Array.from({ length: n }, (_, i) => `${unit}${i}`).join('/');

const CASES: { h: PaxHeaders; body?: Buffer }[] = [
  { h: { name: 'etc/', type: 'directory', mode: packMode(0o755), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'etc/passwd', type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime }, body: Buffer.from('root:x:0:0\n') },
  { h: { name: 'empty', type: 'file', mode: packMode(0o600), uid: 1000, gid: 1000, mtime }, body: Buffer.alloc(0) },
  { h: { name: 'block', type: 'file', mode: packMode(0o644), uid: 1, gid: 2, mtime }, body: Buffer.alloc(512, 7) },
  { h: { name: 'big', type: 'file', mode: packMode(0o4755), uid: 0, gid: 0, mtime }, body: Buffer.alloc(70_001, 1) },
  { h: { name: 'mode-zero', type: 'file', mode: packMode(0), uid: 0, gid: 0, mtime }, body: Buffer.from('x') },
  { h: { name: 'default-mode-dir/', type: 'directory', mode: 0, uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'default-mode-file', type: 'file', mode: 0, uid: 0, gid: 0, mtime }, body: Buffer.from('y') },
  { h: { name: 'link', type: 'symlink', linkname: '../target', mode: packMode(0o777), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'hard', type: 'link', linkname: 'etc/passwd', mode: packMode(0o644), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'long-link', type: 'symlink', linkname: `/${long(40)}`, mode: packMode(0o777), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'utf8-link', type: 'symlink', linkname: 'héllo', mode: packMode(0o777), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: `${long(30)}/file`, type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime }, body: Buffer.from('prefix split') },
  { h: { name: `${long(70)}/file`, type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime }, body: Buffer.from('pax path') },
  { h: { name: `${'n'.repeat(150)}`, type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime }, body: Buffer.from('one long component') },
  { h: { name: `${long(45)}/`, type: 'directory', mode: packMode(0o755), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'naïve/café.txt', type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime }, body: Buffer.from('utf-8 name') },
  { h: { name: 'ids', type: 'file', mode: packMode(0o644), uid: 0o7777777, gid: 2_000_000, mtime }, body: Buffer.from('big ids') },
  { h: { name: 'dev/null', type: 'character-device', mode: packMode(0o666), uid: 0, gid: 0, size: 0, devmajor: 1, devminor: 3, mtime } },
  { h: { name: 'dev/sda', type: 'block-device', mode: packMode(0o660), uid: 0, gid: 6, size: 0, devmajor: 8, devminor: 0, mtime } },
  { h: { name: 'fifo', type: 'fifo', mode: packMode(0o644), uid: 0, gid: 0, size: 0, mtime } },
  { h: { name: 'old', type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime: new Date(0) }, body: Buffer.from('epoch') },
  { h: { name: 'future', type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime: new Date(2 ** 36 * 1000) }, body: Buffer.from('base-256 time') },
  { h: { name: 'named', type: 'file', mode: packMode(0o644), uid: 5, gid: 5, uname: 'user', gname: 'group', mtime }, body: Buffer.from('names') },
  { h: { name: 'records', type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime, pax: { comment: 'x'.repeat(990), 'SCHILY.xattr.user.k': 'v' } }, body: Buffer.from('pax records') },
];

async function viaTarStream(cases: typeof CASES): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const { h, body } of cases) {
    await new Promise<void>((resolve, reject) => p.entry({ ...h } as Header, body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

function viaWriter(cases: typeof CASES): Buffer {
  const w = new TarWriter();
  for (const { h, body } of cases) w.entry({ ...h }, body);
  w.finalize();
  return w.take();
}

test('each header and body is written byte for byte as tar-stream writes it', async () => {
  for (const c of CASES) {
    assert.deepEqual(viaWriter([c]), await viaTarStream([c]), c.h.name);
  }
});

test('a whole archive is the same bytes, and a streamed body (header, bytes, pad) equals a whole one', async () => {
  assert.deepEqual(viaWriter(CASES), await viaTarStream(CASES));
  const big = CASES.find((c) => c.h.name === 'big')!;
  const w = new TarWriter();
  const size = w.header({ ...big.h }, big.body!.length);
  const parts = [w.take(), big.body!.subarray(0, 1000), big.body!.subarray(1000)];
  w.pad(size);
  w.finalize();
  parts.push(w.take());
  assert.deepEqual(Buffer.concat(parts), viaWriter([big]));
});

test('full says when a chunk is worth writing; take empties the writer', () => {
  const w = new TarWriter();
  assert.equal(w.empty, true);
  for (let i = 0; !w.full; i++) w.entry({ name: `f${i}`, type: 'file', mode: packMode(0o644), uid: 0, gid: 0, mtime }, Buffer.alloc(4000));
  assert.ok(w.take().length >= 256 * 1024);
  assert.equal(w.empty, true);
  assert.equal(w.take().length, 0);
});
