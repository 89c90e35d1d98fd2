import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { releaseChunk } from '../util/chunk-pool.js';
import { tempDir } from '../testing/store-fixture.js';
import { PooledFileReader } from './pooled-reader.js';

test('a file read through reused buffers: every byte in order, the last chunk short, chunks given back read into again', async (t) => {
  const file = path.join(await tempDir(t), 'blob');
  const data = randomBytes((5 << 20) + 12345);
  await writeFile(file, data);
  const fh = await open(file, 'r');
  const parts: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const c of new PooledFileReader(fh)) {
    const chunk = c as Buffer;
    buffers.add(chunk.buffer);
    parts.push(Buffer.from(chunk)); // a copy: the chunk is given back at once, as a socket write's callback does
    releaseChunk(chunk);
  }
  assert.ok(Buffer.concat(parts).equals(data));
  assert.equal(parts.at(-1)!.length, 12345);
  assert.ok(buffers.size < parts.length, `${parts.length} chunks through ${buffers.size} buffers`);
  await assert.rejects(fh.stat(), /EBADF|closed/, 'the file handle is closed at the end');
});
