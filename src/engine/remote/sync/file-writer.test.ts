import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFiles } from './file-writer.js';

test('file writer: batches created in writer threads with their bytes, mode and mtime, and the stat the memo needs; an existing path fails its batch only', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-writer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const mtimeMs = Date.UTC(2020, 0, 2, 3, 4, 5);
  const batch = (from: number) => Array.from({ length: 50 }, (_, i) => ({ abs: path.join(dir, `f${from + i}`), data: Buffer.from(`file ${from + i}\n`), mode: i % 2 ? 0o755 : 0o4644, mtimeMs }));
  // Several batches at once: both threads busy.
  const results = await Promise.all([batch(0), batch(50), batch(100), batch(150)].map((b) => writeFiles(b)));
  for (const [k, stats] of results.entries()) {
    assert.equal(stats.length, 50);
    for (const [i, s] of stats.entries()) {
      const f = path.join(dir, `f${k * 50 + i}`);
      const st = await lstat(f);
      assert.deepEqual(s, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
      assert.equal(st.mode & 0o7777, i % 2 ? 0o755 : 0o4644);
      assert.equal(st.mtimeMs, mtimeMs);
      assert.equal(await readFile(f, 'utf8'), `file ${k * 50 + i}\n`);
    }
  }
  await writeFile(path.join(dir, 'taken'), 'x');
  await assert.rejects(writeFiles([{ abs: path.join(dir, 'taken'), data: Buffer.from('y'), mode: 0o644, mtimeMs }]), { code: 'EEXIST' });
  assert.equal(await readFile(path.join(dir, 'taken'), 'utf8'), 'x', 'an existing file is never replaced');
  const after = await writeFiles([{ abs: path.join(dir, 'after'), data: Buffer.alloc(0), mode: 0o600, mtimeMs }]);
  assert.equal(after[0]!.size, 0, 'the threads still work after a failed batch');
});
