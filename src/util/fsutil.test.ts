/**
 * createFilesAtomic: files that do not exist yet appear whole and in order,
 * ones that exist are left as they are, and no temp file stays behind; two
 * processes' worth of concurrent creators each see every file created once.
 * readSmallSync / readSmallWithStatsSync: the bytes, undefined for a missing
 * file, other errors passed; the stats of the file read; no bytes past `max`.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFilesAtomic, readSmallSync, readSmallWithStatsSync } from './fsutil.js';

test('createFilesAtomic creates what is missing, keeps what exists, leaves no temp files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-fsutil-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const a = join(dir, 'index.json');
  const b = join(dir, 'oci-layout');
  assert.deepEqual(await createFilesAtomic([{ path: a, data: 'first a' }, { path: b, data: 'first b' }]), [true, true]);
  assert.deepEqual(await createFilesAtomic([{ path: a, data: 'second a' }, { path: b, data: 'second b' }]), [false, false]);
  assert.equal(await readFile(a, 'utf8'), 'first a');
  assert.equal(await readFile(b, 'utf8'), 'first b');
  const racers = await Promise.all(
    [1, 2, 3].map((i) => createFilesAtomic([{ path: join(dir, 'x'), data: `x${i}` }, { path: join(dir, 'y'), data: `y${i}` }])),
  );
  assert.deepEqual(racers.map((r) => r[0]).filter(Boolean).length, 1, 'x created once');
  assert.deepEqual(racers.map((r) => r[1]).filter(Boolean).length, 1, 'y created once');
  assert.match(await readFile(join(dir, 'x'), 'utf8'), /^x[123]$/);
  assert.deepEqual((await readdir(dir)).sort(), ['index.json', 'oci-layout', 'x', 'y']);
});

test('readSmallSync: the bytes, undefined when the file is not there, other errors passed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-fsutil-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.yaml'), 'mirrors: {}\n');
  await writeFile(join(dir, 'empty'), '');
  await mkdir(join(dir, 'sub'));
  assert.equal(readSmallSync(join(dir, 'a.yaml'))?.toString(), 'mirrors: {}\n');
  assert.equal(readSmallSync(join(dir, 'empty'))?.length, 0, 'an empty file is bytes, not a miss');
  assert.equal(readSmallSync(join(dir, 'missing')), undefined);
  assert.throws(() => readSmallSync(join(dir, 'sub')), { code: 'EISDIR' });
  assert.throws(() => readSmallSync(join(dir, 'a.yaml', 'x')), { code: 'ENOTDIR' });
});

test('readSmallWithStatsSync: the stats of the file read, no bytes past max, undefined when missing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-fsutil-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'doc.json');
  await writeFile(file, '{"schemaVersion":2}');
  const st = await stat(file, { bigint: true });
  const read = readSmallWithStatsSync(file);
  assert.equal(read?.bytes?.toString(), '{"schemaVersion":2}');
  assert.equal(read?.stats.ino, st.ino);
  assert.equal(read?.stats.size, 19n);
  assert.equal(readSmallWithStatsSync(file, 19)?.bytes?.length, 19, 'a file of exactly max bytes is read');
  const big = readSmallWithStatsSync(file, 18);
  assert.equal(big?.bytes, undefined, 'past max: not read');
  assert.equal(big?.stats.size, 19n);
  assert.equal(readSmallWithStatsSync(join(dir, 'missing'), 18), undefined);
  await mkdir(join(dir, 'sub'));
  assert.throws(() => readSmallWithStatsSync(join(dir, 'sub')), { code: 'EISDIR' });
});
