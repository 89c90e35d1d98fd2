/**
 * createFilesAtomic: files that do not exist yet appear whole and in order,
 * ones that exist are left as they are, and no temp file stays behind; two
 * processes' worth of concurrent creators each see every file created once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createFilesAtomic } from './fsutil.js';

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
