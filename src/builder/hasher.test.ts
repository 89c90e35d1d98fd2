import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SourceHasher, keptMemos } from './hasher.js';

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

test('stat memo: a memo this process wrote is not read back by the next hasher of the same context; another writer\'s is', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-hasher-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [ctx, cache] = [path.join(dir, 'ctx'), path.join(dir, 'cache')];
  await mkdir(ctx);
  const f = path.join(ctx, 'a');
  await writeFile(f, 'one');
  const st = await lstat(f);
  // No memo file yet (an agent's first sync): the build's hasher still gets the digests the sync put in.
  const first = new SourceHasher(cache, ctx);
  await first.load();
  first.remember(f, st, 'd0');
  const unsaved = new SourceHasher(cache, ctx);
  await unsaved.load();
  assert.equal(unsaved.fileDigest(f, st), 'd0');
  const a = new SourceHasher(cache, ctx);
  await a.load();
  a.remember(f, st, 'd1');
  await a.save();
  const b = new SourceHasher(cache, ctx);
  await b.load();
  assert.equal(b.fileDigest(f, st), 'd1', 'the saved digest');
  assert.equal(b.changed, false);
  // A digest the first hasher added after its save: seen by the second, so it holds the same memo, not a copy read back.
  a.remember(f, st, 'd2');
  const c = new SourceHasher(cache, ctx);
  await c.load();
  assert.equal(c.fileDigest(f, st), 'd2');
  // The file written by someone else (its stat changes): read again.
  const [memoFile] = await readdir(path.join(cache, 'buildcache', 'stat'));
  await writeFile(path.join(cache, 'buildcache', 'stat', memoFile!), JSON.stringify({ [f]: [`${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`, 'd3'], other: ['0', '0'] }));
  const d = new SourceHasher(cache, ctx);
  await d.load();
  assert.equal(d.fileDigest(f, st), 'd3');
});

test('stat memos kept by cost: past the bound the least recently used is dropped, and its next hasher reads the file', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-hasher-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cache = path.join(dir, 'cache');
  const f = path.join(dir, 'a');
  await writeFile(f, 'one');
  const st = await lstat(f);
  const bound = keptMemos.maxCost;
  t.after(() => void (keptMemos.maxCost = bound));
  keptMemos.maxCost = 2 * 1024 + 600; // two memos of one entry (~1,150 each: 1 KiB + 1.5 x its JSON), not three
  // Three contexts' memos saved, each then given a digest its file does not hold: seen only while it is kept.
  for (const ctx of ['c1', 'c2', 'c3']) {
    const h = new SourceHasher(cache, path.join(dir, ctx));
    await h.load();
    h.remember(f, st, `${ctx}-saved`);
    await h.save();
    h.remember(f, st, `${ctx}-unsaved`);
    if (ctx === 'c2') await new SourceHasher(cache, path.join(dir, 'c1')).load(); // c1 used: c2 is the least recent
  }
  const next = async (ctx: string) => {
    const h = new SourceHasher(cache, path.join(dir, ctx));
    await h.load();
    return h.fileDigest(f, st);
  };
  assert.equal(await next('c1'), 'c1-unsaved', 'kept: the same memo');
  assert.equal(await next('c3'), 'c3-unsaved', 'kept: the same memo');
  assert.equal(await next('c2'), 'c2-saved', 'dropped: read from its file');
  assert.equal(await next('c1'), 'c1-saved', 'c2 read again: c1, the least recently used, dropped');
  assert.ok(keptMemos.cost <= keptMemos.maxCost);
});

test('fileDigest and fileDigestSync: the same sha256 for an empty, a small and a multi-MiB file; each trusts the memo the other recorded', async (t) => {
  const { createHash } = await import('node:crypto');
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-hasher-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['small', Buffer.from('one\n')],
    ['exact', Buffer.alloc(1 << 20, 7)], // 1 MiB: still read whole
    ['big', Buffer.alloc((3 << 20) + 5, 9)], // past 1 MiB: streamed (fileDigest) or read 1 MiB at a time (fileDigestSync)
  ];
  for (const [name, bytes] of files) {
    const f = path.join(dir, name);
    await writeFile(f, bytes);
    const st = await lstat(f);
    const want = createHash('sha256').update(bytes).digest('hex');
    const sync = new SourceHasher(undefined, dir);
    assert.equal(sync.fileDigestSync(f, st), want, `${name}: fileDigestSync`);
    assert.equal(sync.changed, true);
    const d = new SourceHasher(undefined, dir).fileDigest(f, st);
    assert.equal(typeof d === 'string', bytes.length <= 1 << 20, `${name}: awaited only past 1 MiB`);
    assert.equal(await d, want, `${name}: fileDigest`);
    // The file gone, its stat unchanged: both answer from the digest the other recorded, reading nothing.
    const bothWays = new SourceHasher(undefined, dir);
    bothWays.remember(f, st, `memo-${name}`);
    await rm(f);
    assert.equal(bothWays.fileDigestSync(f, st), `memo-${name}`);
    assert.equal(bothWays.fileDigest(f, st), `memo-${name}`);
    // Another stat: not the memo's; read (and the file is gone).
    assert.throws(() => bothWays.fileDigestSync(f, { ...st, mtimeMs: st.mtimeMs + 1 }), { code: 'ENOENT' });
  }
});
