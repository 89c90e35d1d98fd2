import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SourceHasher } from './hasher.js';

test('hashSources: a change is seen by a walk; with a content key the hash is remembered per key (an agent\'s synced context is not walked again)', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-hasher-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const root = { dir, what: 'build context' };
  await writeFile(path.join(dir, 'a'), 'one');
  const h = new SourceHasher(undefined, dir);
  const first = await h.hashSources(root, ['.']);
  assert.equal(await h.hashSources(root, ['.'], 'content-1'), first, 'the same hash as a walk');
  await writeFile(path.join(dir, 'a'), 'two');
  const walked = await h.hashSources(root, ['.']);
  assert.notEqual(walked, first, 'a walk sees the new bytes');
  // The key says the content is still content-1: remembered, no walk (the caller vouches for the key).
  assert.equal(await h.hashSources(root, ['.'], 'content-1'), first);
  assert.equal(await new SourceHasher(undefined, dir).hashSources(root, ['.'], 'content-1'), first, 'kept across builds in one process');
  assert.equal(await h.hashSources(root, ['.'], 'content-2'), walked, 'another key walks');
  assert.notEqual(await h.hashSources(root, ['a'], 'content-1'), first, 'other patterns are another entry');
});
