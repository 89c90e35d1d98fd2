/**
 * A diff's `extra` files (the last COPY's, not on the disk): written among
 * the directory's own entries in name order, with the stats given and the
 * bytes of their source; a source whose size is not the one given fails
 * with one line naming it (grown or shrunk while the layer was written).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { diffDirectory, type ExtraFiles } from './diff.js';

const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'kiln-diff-extra-'));

test('extra files are written in name order among the directory entries, with their stats and their source bytes', async () => {
  const dir = await tmp();
  try {
    const upper = path.join(dir, 'upper');
    mkdirSync(path.join(upper, 'app'), { recursive: true });
    writeFileSync(path.join(upper, 'app', 'b.txt'), 'on disk\n');
    const src = path.join(dir, 'src.txt');
    writeFileSync(src, 'from the source\n');
    const st = lstatSync(src);
    const as = Object.assign(Object.create(Object.getPrototypeOf(st) as object), st, { mode: 0o100750, uid: 12, gid: 34 }) as typeof st;
    const extra: ExtraFiles = new Map([['app', new Map([['a.txt', { source: src, st: as }], ['c.txt', { source: src, st: as }]])]]);
    const tarFile = path.join(dir, 'layer.tar');
    await pipeline(diffDirectory(upper, { overlay: false, extra }), createWriteStream(tarFile));
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', tarFile]).toString().trim().split('\n').map((l) => l.replace(/ \d{4}-\d\d-\d\d \d\d:\d\d /, ' DATE ').replace(/ +/g, ' '));
    assert.deepEqual(listing, [
      'drwxr-xr-x 0/0 0 DATE app/',
      '-rwxr-x--- 12/34 16 DATE app/a.txt',
      '-rw-r--r-- 0/0 8 DATE app/b.txt',
      '-rwxr-x--- 12/34 16 DATE app/c.txt',
    ]);
    assert.equal(execFileSync('tar', ['-xOf', tarFile, 'app/c.txt']).toString(), 'from the source\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an extra file whose source is not the size its stats say fails, naming the source', async () => {
  const dir = await tmp();
  try {
    const upper = path.join(dir, 'upper');
    mkdirSync(upper);
    const src = path.join(dir, 'src.txt');
    writeFileSync(src, 'twelve bytes');
    const st = lstatSync(src);
    for (const size of [11, 13]) {
      const as = Object.assign(Object.create(Object.getPrototypeOf(st) as object), st, { size }) as typeof st;
      const extra: ExtraFiles = new Map([['', new Map([['f', { source: src, st: as }]])]]);
      await assert.rejects(pipeline(diffDirectory(upper, { overlay: false, extra }), createWriteStream(path.join(dir, 'out.tar'))), {
        message: `${src} changed while it was being archived`,
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a name both on the disk and among the extra files is written once, from the extra; dirStats stand for the disk stats of directories', async () => {
  const dir = await tmp();
  try {
    const upper = path.join(dir, 'upper');
    mkdirSync(path.join(upper, 'app'), { recursive: true });
    // Being written meanwhile (builder/deferred-files.ts writeAll): half there, and the directory's time changed.
    writeFileSync(path.join(upper, 'app', 'a.txt'), 'fro');
    const src = path.join(dir, 'src.txt');
    writeFileSync(src, 'from the source\n');
    const extra: ExtraFiles = new Map([['app', new Map([['a.txt', { source: src, st: lstatSync(src) }]])]]);
    const appSt = lstatSync(path.join(upper, 'app'));
    const was = Object.assign(Object.create(Object.getPrototypeOf(appSt) as object), appSt, { mtimeMs: Date.UTC(2001, 1, 3, 4, 5, 6), mtime: new Date(Date.UTC(2001, 1, 3, 4, 5, 6)) }) as typeof appSt;
    const tarFile = path.join(dir, 'layer.tar');
    await pipeline(diffDirectory(upper, { overlay: false, extra, dirStats: new Map([['app', was]]) }), createWriteStream(tarFile));
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', tarFile], { env: { ...process.env, TZ: 'UTC' } }).toString().trim().split('\n').map((l) => l.replace(/ +/g, ' '));
    assert.deepEqual(listing, ['drwxr-xr-x 0/0 0 2001-02-03 04:05:06 app/', `-rw-r--r-- 0/0 16 ${listing[1]!.split(' ').slice(3, 5).join(' ')} app/a.txt`]);
    assert.equal(execFileSync('tar', ['-xOf', tarFile, 'app/a.txt']).toString(), 'from the source\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
