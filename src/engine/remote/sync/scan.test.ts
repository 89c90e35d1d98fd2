/** The client's scan: the manifest and its digest as the walk finds them, the walk's fingerprint, the memo's use. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, readFile, readdir, realpath, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { scanContext, type ScannedContext } from './scan.js';
import { keptMemos } from '../../../builder/hasher.js';
import type { ContextManifest } from './manifest.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'kiln-scan-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('manifest digest: the scan computes it as it walks, the same bytes as one JSON line per entry (past a 64 KiB block, non-ASCII names)', async (t) => {
  const { manifestDigest } = await import('./manifest.js');
  const { createHash } = await import('node:crypto');
  const ctx = await tmp(t);
  const cache = await tmp(t);
  await mkdir(path.join(ctx, 'dir-é'));
  for (let i = 0; i < 1000; i++) await writeFile(path.join(ctx, 'dir-é', `file-${i}-\u{1F600}.txt`), `content ${i}\n`);
  await symlink('dir-é/file-1-\u{1F600}.txt', path.join(ctx, 'link'));
  await link(path.join(ctx, 'dir-é', 'file-2-\u{1F600}.txt'), path.join(ctx, 'hard'));
  const scanned = await scanContext(ctx, { cacheDir: cache });
  const lines = scanned.manifest.entries.map((e) => JSON.stringify(e) + '\n').join('');
  assert.ok(Buffer.byteLength(lines) > 2 * 65536, 'the manifest spans several blocks');
  const expected = `sha256:${createHash('sha256').update(lines).digest('hex')}`;
  assert.equal(scanned.digest, expected);
  assert.equal(manifestDigest(scanned.manifest), expected);
  assert.equal(manifestDigest(JSON.parse(JSON.stringify(scanned.manifest)) as ContextManifest), expected, 'keys in any order: the canonical line');
  assert.ok(scanned.manifest.entries.some((e) => e.type === 'hardlink') && scanned.manifest.entries.some((e) => e.type === 'symlink'));
});

test('scan fingerprint: the same walk takes the known digest; any changed stat tuple, name, link or ignore rule makes the manifest again', async (t) => {
  const ctx = await tmp(t);
  const cache = await tmp(t);
  await writeFile(path.join(ctx, 'a.txt'), 'one\n');
  await mkdir(path.join(ctx, 'd'));
  await writeFile(path.join(ctx, 'd', 'b.txt'), 'two\n');
  await symlink('a.txt', path.join(ctx, 'l'));
  const first = await scanContext(ctx, { cacheDir: cache });
  assert.match(first.fingerprint, /^[0-9a-f]{64}$/);
  assert.equal(first.manifest.entries.length, 4);
  const known = (s: ScannedContext) => ({ fingerprint: s.fingerprint, digest: s.digest, entries: s.manifest.entries.length });
  // A known digest no manifest has: taken as it is for the same walk (its digest lines are not computed).
  const marker = `sha256:${'0'.repeat(64)}`;
  const hit = await scanContext(ctx, { cacheDir: cache, known: Promise.resolve({ ...known(first), digest: marker }) });
  assert.deepEqual([hit.digest, hit.fingerprint, hit.manifest.entries.length], [marker, first.fingerprint, 4], 'the same walk: the known digest');
  assert.deepEqual(hit.manifest, first.manifest);
  assert.equal(hit.sources.get(first.manifest.entries.find((e) => e.path === 'a.txt')!.digest!), path.join(await realpath(ctx), 'a.txt'));

  /** A change, then a scan with the first scan known: made again, and the same as a scan without it. */
  const changed = async (what: string, change: () => Promise<void>) => {
    await change();
    const s = await scanContext(ctx, { cacheDir: cache, known: Promise.resolve(known(first)) });
    const fresh = await scanContext(ctx, { cacheDir: cache });
    assert.notEqual(s.fingerprint, first.fingerprint, what);
    assert.deepEqual([s.digest, s.manifest], [fresh.digest, fresh.manifest], what);
    assert.notEqual(s.digest, first.digest, what);
  };
  await changed('a mode', () => chmod(path.join(ctx, 'a.txt'), 0o600));
  await changed('a rename', () => rename(path.join(ctx, 'd', 'b.txt'), path.join(ctx, 'd', 'c.txt')));
  await changed('a link target', async () => {
    await rm(path.join(ctx, 'l'));
    await symlink('d', path.join(ctx, 'l'));
  });
  await changed('an ignore rule', () => writeFile(path.join(ctx, '.dockerignore'), 'd\n'));
  // The same size and mtime, other bytes: the stat memo's ctime and inode see it, and so does the fingerprint.
  const a = path.join(ctx, 'a.txt');
  await utimes(a, 1_700_000_000, 1_700_000_000);
  const before = await scanContext(ctx, { cacheDir: cache });
  await writeFile(a, 'uno\n');
  await utimes(a, 1_700_000_000, 1_700_000_000);
  const after = await scanContext(ctx, { cacheDir: cache, known: Promise.resolve(known(before)) });
  assert.notEqual(after.fingerprint, before.fingerprint);
  assert.notEqual(after.digest, before.digest, 'the rewritten file is hashed again');
  // Another entry count, and the known digest is not taken.
  const same = await scanContext(ctx, { cacheDir: cache });
  const miscount = await scanContext(ctx, { cacheDir: cache, known: Promise.resolve({ ...known(same), entries: same.manifest.entries.length + 1, digest: marker }) });
  assert.equal(miscount.digest, same.digest);
  // The memo lost: the walk's stat tuples still name the known manifest (they hold the memo's signatures); read, the
  // manifest is made by hashing the files again, and comes out the same.
  await rm(path.join(cache, 'buildcache'), { recursive: true });
  const memoLost = await scanContext(ctx, { cacheDir: cache, known: Promise.resolve({ ...known(same), digest: marker }) });
  assert.deepEqual([memoLost.unchanged, memoLost.digest, memoLost.entryCount], [true, marker, same.entryCount], 'the known digest, without the memo');
  assert.deepEqual(memoLost.manifest, same.manifest);
});

test('scan of the known walk: the memo is not parsed and no digest looked up unless the manifest is read; then they are the memo\'s', async (t) => {
  const ctx = await tmp(t);
  const cache = await tmp(t);
  await writeFile(path.join(ctx, 'a.txt'), 'one\n');
  await writeFile(path.join(ctx, 'big.bin'), Buffer.alloc(3 << 20, 1)); // past 1 MiB: hashed in 1 MiB reads when read late
  const first = await scanContext(ctx, { cacheDir: cache });
  const known = Promise.resolve({ fingerprint: first.fingerprint, digest: first.digest, entries: first.entryCount });
  // The memo file replaced by one that names other digests for the same stats: a scan that reads it shows them.
  const [memoFile] = await readdir(path.join(cache, 'buildcache', 'stat'));
  const memoPath = path.join(cache, 'buildcache', 'stat', memoFile!);
  const memo = JSON.parse(await readFile(memoPath, 'utf8')) as Record<string, [string, string]>;
  for (const k of Object.keys(memo)) memo[k]![1] = 'f'.repeat(64);
  await writeFile(memoPath, JSON.stringify(memo));
  keptMemos.delete(memoPath); // as in a new process
  const s = await scanContext(ctx, { cacheDir: cache, known, saveMemoLater: true });
  assert.deepEqual([s.unchanged, s.digest, s.entryCount], [true, first.digest, 2]);
  assert.ok(!keptMemos.keys().includes(memoPath), 'the memo not parsed');
  assert.deepEqual(s.manifest.entries.map((e) => e.digest), [`sha256:${'f'.repeat(64)}`, `sha256:${'f'.repeat(64)}`], 'read: the digests are looked up now, in the memo as it is now');
  // Not in the memo at all: hashed when read, whatever the size.
  await rm(path.join(cache, 'buildcache'), { recursive: true });
  const lost = await scanContext(ctx, { cacheDir: cache, known });
  assert.equal(existsSync(path.join(cache, 'buildcache')), false, 'nothing to save when the scan returned');
  assert.deepEqual(lost.manifest, first.manifest);
  assert.equal(lost.sources.get(first.manifest.entries[1]!.digest!), path.join(await realpath(ctx), 'big.bin'));
  await lost.saveMemo!(); // the digests made late are saved, though the scan saved (nothing) before
  assert.equal((await readdir(path.join(cache, 'buildcache', 'stat'))).length, 1);
});

test('the manifest\'s digests: the same, in the walk\'s order, whether made by a changed walk (files past 1 MiB awaited) or when a known walk\'s manifest is first read', async (t) => {
  const { createHash } = await import('node:crypto');
  const ctx = await tmp(t);
  const cache = await tmp(t);
  // Large files between small ones: the digests after each awaited read go on from the next file.
  const bytes = new Map<string, Buffer>();
  for (let i = 0; i < 6; i++) {
    bytes.set(`f${i}-small.txt`, Buffer.from(`small ${i}\n`));
    if (i % 2 === 0) bytes.set(`f${i}-large.bin`, Buffer.alloc((1 << 20) + 1000 * i + 1, i));
  }
  for (const [name, b] of bytes) await writeFile(path.join(ctx, name), b);
  const sha = (name: string) => `sha256:${createHash('sha256').update(bytes.get(name)!).digest('hex')}`;
  const changed = await scanContext(ctx, { cacheDir: cache });
  assert.equal(changed.manifest.entries.length, bytes.size);
  for (const e of changed.manifest.entries) assert.equal(e.digest, sha(e.path), `changed walk: ${e.path}`);
  // The memo gone: a known walk's manifest, read, hashes every file again (synchronously), to the same digests.
  await rm(path.join(cache, 'buildcache'), { recursive: true });
  for (const k of keptMemos.keys()) keptMemos.delete(k); // as in a new process
  const known = Promise.resolve({ fingerprint: changed.fingerprint, digest: changed.digest, entries: changed.entryCount });
  const late = await scanContext(ctx, { cacheDir: cache, known, saveMemoLater: true });
  assert.equal(late.unchanged, true);
  assert.deepEqual(late.manifest, changed.manifest, 'the same manifest, the same order');
  const { manifestDigest } = await import('./manifest.js');
  assert.equal(manifestDigest(late.manifest), changed.digest);
  await late.saveMemo!();
  // The digests made by the late read are the memo's now, each the file's.
  const [memoFile] = await readdir(path.join(cache, 'buildcache', 'stat'));
  const memo = JSON.parse(await readFile(path.join(cache, 'buildcache', 'stat', memoFile!), 'utf8')) as Record<string, [string, string]>;
  const root = await realpath(ctx);
  assert.deepEqual(Object.fromEntries(Object.entries(memo).map(([k, v]) => [path.relative(root, k), `sha256:${v[1]}`])), Object.fromEntries([...bytes.keys()].map((n) => [n, sha(n)])));
});

test('scan with saveMemoLater: the digest memo is written when the caller says (once), not before the scan returns', async (t) => {
  const ctx = await tmp(t);
  const cache = await tmp(t);
  await writeFile(path.join(ctx, 'a.txt'), 'one\n');
  const memoDir = path.join(cache, 'buildcache', 'stat');
  const s = await scanContext(ctx, { cacheDir: cache, saveMemoLater: true });
  assert.equal(existsSync(memoDir), false, 'not written yet');
  await Promise.all([s.saveMemo!(), s.saveMemo!()]);
  const [memo] = await readdir(memoDir);
  const written = JSON.parse(await readFile(path.join(memoDir, memo!), 'utf8')) as Record<string, [string, string]>;
  assert.deepEqual(Object.values(written).map((v) => `sha256:${v[1]}`), [s.manifest.entries[0]!.digest]);
  // Without the option, as before: written when the scan returns.
  const cache2 = await tmp(t);
  await scanContext(ctx, { cacheDir: cache2 });
  assert.equal((await readdir(path.join(cache2, 'buildcache', 'stat'))).length, 1);
});
