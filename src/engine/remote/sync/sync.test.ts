import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, link, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isKilnError } from '../../../errors.js';
import { scanContext } from './scan.js';
import { validateManifest } from './validate.js';
import { openSlot, validateContextId } from './slot.js';
import { ContextApplier, fileTime } from './apply.js';
import { diffManifest, manifestDigest, type ContextManifest } from './manifest.js';
import { treeOf } from './test-tree.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'kiln-sync-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** Both sides in one process: scan, plan, send what is needed in 64 KiB chunks, finish. */
async function sync(agentRoot: string, ctx: string, clientRoot: string, base?: ContextManifest): Promise<{ need: string[]; bytes: number; dir: string; manifest: ContextManifest }> {
  const scanned = await scanContext(ctx, { cacheDir: clientRoot });
  const slot = await openSlot(agentRoot, 'ctx1');
  try {
    const manifest = validateManifest(JSON.parse(JSON.stringify(scanned.manifest)));
    const a = new ContextApplier(slot, manifest, agentRoot, base && diffManifest(base, manifest));
    const need = await a.plan();
    let bytes = 0;
    for (const d of need) {
      const chunks: Buffer[] = [];
      for await (const c of createReadStream(scanned.sources.get(d)!, { highWaterMark: 65536 })) chunks.push(c as Buffer);
      if (chunks.length === 0) chunks.push(Buffer.alloc(0));
      for (const [i, c] of chunks.entries()) {
        bytes += c.length;
        await a.receive(d, c, i === chunks.length - 1);
      }
    }
    await a.finish();
    return { need, bytes, dir: slot.dir, manifest };
  } finally {
    await slot.release();
  }
}

/** path → type, mode, mtime, link count and content or link target: what a build can see. */
const tree = (dir: string) => treeOf(dir, async (abs, st) => `n${st.nlink} ${(await readFile(abs)).toString('base64').slice(0, 40)}`);

async function makeContext(ctx: string): Promise<void> {
  await mkdir(path.join(ctx, 'src/deep'), { recursive: true });
  await mkdir(path.join(ctx, 'node_modules/x'), { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  await writeFile(path.join(ctx, '.dockerignore'), 'node_modules\n*.log\n!keep.log\n');
  await writeFile(path.join(ctx, 'src/a.txt'), 'alpha\n');
  await writeFile(path.join(ctx, 'src/deep/big.bin'), Buffer.alloc(300_000, 7));
  await writeFile(path.join(ctx, 'src/copy.txt'), 'alpha\n'); // same digest as a.txt: sent once
  await writeFile(path.join(ctx, 'run.sh'), '#!/bin/sh\n');
  await chmod(path.join(ctx, 'run.sh'), 0o755);
  await writeFile(path.join(ctx, 'debug.log'), 'secret-ish log\n');
  await writeFile(path.join(ctx, 'keep.log'), 'kept\n');
  await writeFile(path.join(ctx, 'node_modules/x/index.js'), 'ignored\n');
  await symlink('../src/a.txt', path.join(ctx, 'src/deep/link'));
  await link(path.join(ctx, 'run.sh'), path.join(ctx, 'run2.sh'));
  await utimes(path.join(ctx, 'src/a.txt'), 1_600_000_000, 1_600_000_000);
}

test('sync: the agent dir ends up as the context after .dockerignore; a second sync sends only the changed file', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await makeContext(ctx);
  const first = await sync(agent, ctx, client);
  assert.equal(first.need.length, 6, 'Dockerfile, .dockerignore, a.txt (= copy.txt: sent once), big.bin, run.sh (= run2.sh, a hardlink), keep.log');
  assert.equal(first.bytes, ['FROM scratch\nCOPY . /\n', 'node_modules\n*.log\n!keep.log\n', 'alpha\n', '#!/bin/sh\n', 'kept\n'].join('').length + 300_000);
  const want = await tree(ctx);
  for (const k of Object.keys(want)) if (k.startsWith('node_modules') || k === 'debug.log') delete want[k];
  assert.deepEqual(await tree(first.dir), want);
  assert.equal((await lstat(path.join(first.dir, 'run2.sh'))).ino, (await lstat(path.join(first.dir, 'run.sh'))).ino, 'hardlink kept');

  await writeFile(path.join(ctx, 'src/a.txt'), 'alpha, changed\n');
  await rm(path.join(ctx, 'keep.log'));
  await mkdir(path.join(ctx, 'newdir'));
  const second = await sync(agent, ctx, client);
  assert.equal(second.need.length, 1);
  assert.equal(second.bytes, 'alpha, changed\n'.length);
  const want2 = await tree(ctx);
  for (const k of Object.keys(want2)) if (k.startsWith('node_modules') || k === 'debug.log') delete want2[k];
  assert.deepEqual(await tree(second.dir), want2);

  const third = await sync(agent, ctx, client);
  assert.equal(third.bytes, 0, 'nothing changed, nothing sent');
});

test('sync: a file replaced by a directory, a dir by a symlink, and a corrupt agent file are all repaired', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await mkdir(path.join(ctx, 'd'));
  await writeFile(path.join(ctx, 'd/f'), 'x');
  await writeFile(path.join(ctx, 'g'), 'y');
  const first = await sync(agent, ctx, client);
  await writeFile(path.join(first.dir, 'd/f'), 'z'); // the agent's copy tampered with (same size)
  await rm(path.join(ctx, 'd'), { recursive: true });
  await symlink('/etc', path.join(ctx, 'd'));
  await rm(path.join(ctx, 'g'));
  await mkdir(path.join(ctx, 'g'));
  await writeFile(path.join(ctx, 'g/h'), 'x');
  const second = await sync(agent, ctx, client);
  assert.deepEqual(await tree(second.dir), await tree(ctx));
  assert.equal(second.bytes, 1);
});

test('sync: a byte that does not match its digest is refused and never placed', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'hello');
  const scanned = await scanContext(ctx, { cacheDir: client });
  const slot = await openSlot(agent, 'ctx1');
  const a = new ContextApplier(slot, validateManifest(scanned.manifest), agent);
  const [d] = await a.plan();
  await assert.rejects(a.receive(d!, Buffer.from('hellp'), true), (e) => isKilnError(e, 'DATA_LOSS') && /upload of f: got sha256:/.test(e.message));
  await assert.rejects(a.receive(d!, Buffer.from('hello!'), true), /upload of f: got sha256:\S+ \(6 bytes\), expected/);
  await assert.rejects(a.receive(d!, Buffer.from('hel'), false).then(() => a.receive(d!, Buffer.from('lo!!'), true)), /more bytes than the 5/);
  await assert.rejects(a.finish(), /upload incomplete: 1 file\(s\) not sent, e.g. f/);
  assert.deepEqual(await readdir(slot.dir), []);
  await slot.release();
});

test('validate: hostile manifests are refused with one line naming the entry', () => {
  const f = { type: 'file', mode: 0o644, mtimeMs: 0, size: 1, digest: `sha256:${'a'.repeat(64)}` };
  const d = { type: 'dir', mode: 0o755, mtimeMs: 0 };
  const cases: [unknown, RegExp][] = [
    [{ entries: [{ ...f, path: '../evil' }] }, /entry "\.\.\/evil": the path is not a clean relative path/],
    [{ entries: [{ ...f, path: '/etc/passwd' }] }, /"\/etc\/passwd": the path is absolute/],
    [{ entries: [{ ...d, path: 'a' }, { ...f, path: 'a/../../x' }] }, /not a clean relative path/],
    [{ entries: [{ ...f, path: 'a/b' }] }, /"a\/b": its parent directory is not listed before it/],
    [{ entries: [{ type: 'symlink', mode: 0o777, mtimeMs: 0, path: 'l', target: '/' }, { ...f, path: 'l/x' }] }, /"l\/x": its parent directory is not listed/],
    [{ entries: [{ ...f, path: 'a' }, { ...f, path: 'a' }] }, /"a": listed twice/],
    [{ entries: [{ ...f, path: 'a', digest: 'md5:x' }] }, /needs a sha256/],
    [{ entries: [{ ...f, path: 'a', mode: 0o100644 }] }, /bad mode/],
    [{ entries: [{ ...f, path: 'a\0b' }] }, /NUL/],
    [{ entries: [{ type: 'hardlink', mode: 0, mtimeMs: 0, path: 'h', target: '../../etc/shadow' }] }, /hardlink must name an earlier file/],
    [{ entries: [{ ...f, path: 'a', type: 'socket' }] }, /unknown type/],
    [{ entries: Array.from({ length: 11 }, (_, i) => ({ ...f, path: `f${i}` })) }, /11 entries, more than the 10 allowed/],
    [{}, /no entries list/],
  ];
  for (const [m, re] of cases) {
    assert.throws(() => validateManifest(m, { maxEntries: 10, maxBytes: 1e9 }), (e) => isKilnError(e, 'INVALID_ARGUMENT') && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(m).slice(0, 80));
  }
  assert.throws(() => validateManifest({ entries: [{ ...f, path: 'big', size: 2e9 }] }, { maxEntries: 10, maxBytes: 1e9 }), /larger than the 1000000000 bytes/);
  for (const id of ['..', '.', '', 'a/b', '../x', 'x'.repeat(200), '-x']) assert.throws(() => validateContextId(id), /build context id/);
  assert.equal(validateContextId('abc-1.2_3'), 'abc-1.2_3');
});

test('slot: a second build of the same context waits for the first', async (t) => {
  const agent = await tmp(t);
  const first = await openSlot(agent, 'same');
  let second = false;
  const p = openSlot(agent, 'same').then((s) => {
    second = true;
    return s;
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(second, false, 'the second waits while the first holds the context');
  await first.release();
  const s2 = await p;
  assert.equal(second, true);
  await s2.release();
  await assert.rejects(openSlot(agent, '../up'), /build context id/);
});

test('slot: incoming/ left by a build cut short is emptied when the slot opens; an empty one is kept as it is', async (t) => {
  const agent = await tmp(t);
  const s1 = await openSlot(agent, 'inc');
  await writeFile(path.join(s1.incoming, 'half-upload'), 'partial bytes');
  await s1.release();
  const s2 = await openSlot(agent, 'inc');
  assert.deepEqual(await readdir(s2.incoming), [], 'a half-received upload never survives into the next build');
  assert.equal((await lstat(s2.incoming)).mode & 0o7777, 0o700);
  const ino = (await lstat(s2.incoming)).ino;
  await s2.release();
  const s3 = await openSlot(agent, 'inc');
  assert.equal((await lstat(s3.incoming)).ino, ino, 'an empty incoming/ is not made again');
  await s3.release();
  await chmod(s3.incoming, 0o755);
  const s4 = await openSlot(agent, 'inc');
  assert.equal((await lstat(s4.incoming)).mode & 0o7777, 0o700, 'made again when its mode is not 0700');
  await s4.release();
  assert.ok(!existsSync(path.join(s4.base, 'lock')), 'the lock is released');
});

test('sync: a symlink in the context is never followed on the agent', async (t) => {
  const [ctx, agent, client, outside] = [await tmp(t), await tmp(t), await tmp(t), await tmp(t)];
  await symlink(outside, path.join(ctx, 'out'));
  const m: ContextManifest = (await scanContext(ctx, { cacheDir: client })).manifest;
  assert.deepEqual(m.entries.map((e) => [e.path, e.type, e.target]), [['out', 'symlink', outside]]);
  await sync(agent, ctx, client);
  // Then the client replaces the link by a directory with a file: written inside the context, not through the old link.
  await rm(path.join(ctx, 'out'));
  await mkdir(path.join(ctx, 'out'));
  await writeFile(path.join(ctx, 'out/f'), 'data');
  const r = await sync(agent, ctx, client);
  assert.deepEqual(await readdir(outside), []);
  assert.equal(await readFile(path.join(r.dir, 'out/f'), 'utf8'), 'data');
});

test('manifest delta: diff + apply gives the new manifest back, in the walk order, with the same digest', async (t) => {
  const { applyDelta, diffManifest, manifestDigest, manifestParts } = await import('./manifest.js');
  const [ctx, client] = [await tmp(t), await tmp(t)];
  await makeContext(ctx);
  for (const n of ['a-b', 'a.b', 'a', 'a/z', 'Z', 'é', 'a_b']) {
    if (n.includes('/')) await writeFile(path.join(ctx, n), n);
    else await mkdir(path.join(ctx, n), { recursive: true });
  }
  const before = (await scanContext(ctx, { cacheDir: client })).manifest;
  assert.deepEqual(applyDelta({ entries: [] }, before.entries, []).entries, before.entries, 'sorting by path gives the walk order');
  await writeFile(path.join(ctx, 'src/a.txt'), 'changed');
  await rm(path.join(ctx, 'src/deep'), { recursive: true });
  await writeFile(path.join(ctx, 'a/new'), 'new');
  const after = (await scanContext(ctx, { cacheDir: client })).manifest;
  const d = diffManifest(before, after);
  assert.deepEqual(d.entries.map((e) => e.path).sort(), ['a', 'a/new', 'src', 'src/a.txt'].sort(), 'changed entries (and the dirs whose mtime moved)');
  assert.deepEqual(d.remove.sort(), ['src/deep', 'src/deep/big.bin', 'src/deep/link']);
  const rebuilt = applyDelta(JSON.parse(JSON.stringify(before)), d.entries, d.remove);
  assert.equal(manifestDigest(rebuilt), manifestDigest(after));
  const parts = [...manifestParts(d.entries, d.remove)];
  assert.equal(parts.length, 1);
  assert.equal(parts[0]!.more, undefined);
});

test('sync with a delta: only the changed paths are touched, and the result is the same directory a full check gives', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await makeContext(ctx);
  await mkdir(path.join(ctx, 'kind'));
  await writeFile(path.join(ctx, 'kind/f'), 'file');
  const first = await sync(agent, ctx, client);
  // Every kind of change at once: a file's bytes (with a hardlink to it), a file turned into a dir, a dir into a
  // symlink, a symlink retargeted, a removal deep down, a mode change, a new dir with a file.
  await writeFile(path.join(ctx, 'run.sh'), '#!/bin/sh\necho changed\n');
  await rm(path.join(ctx, 'src/copy.txt'));
  await mkdir(path.join(ctx, 'src/copy.txt'));
  await writeFile(path.join(ctx, 'src/copy.txt/in'), 'inside');
  await rm(path.join(ctx, 'kind'), { recursive: true });
  await symlink('src', path.join(ctx, 'kind'));
  await rm(path.join(ctx, 'src/deep/link'));
  await symlink('big.bin', path.join(ctx, 'src/deep/link'));
  await rm(path.join(ctx, 'src/deep/big.bin'));
  await chmod(path.join(ctx, 'keep.log'), 0o600);
  await mkdir(path.join(ctx, 'new/sub'), { recursive: true });
  await writeFile(path.join(ctx, 'new/sub/n'), 'n');
  // Tampering with an unchanged file is not seen with a delta (the stored manifest vouches for it): the delta
  // path is only taken when the agent's copy is known to be the base's.
  const second = await sync(agent, ctx, client, first.manifest);
  const want = await tree(ctx);
  for (const k of Object.keys(want)) if (k.startsWith('node_modules') || k === 'debug.log') delete want[k];
  assert.deepEqual(await tree(second.dir), want);
  assert.equal((await lstat(path.join(second.dir, 'run2.sh'))).ino, (await lstat(path.join(second.dir, 'run.sh'))).ino, 'the hardlink follows its changed target');
  assert.equal(second.bytes, '#!/bin/sh\necho changed\n'.length + 'inside'.length + 'n'.length);
  // The same change checked without a delta (every path) finds nothing left to do.
  const third = await sync(agent, ctx, client);
  assert.equal(third.bytes, 0);
  assert.deepEqual(await tree(third.dir), want);
  const none = await sync(agent, ctx, client, third.manifest);
  assert.deepEqual([none.need, none.bytes], [[], 0], 'no change: nothing asked for');
});

test('slot manifest: cleared before a sync changes the directory, so a sync cut short leaves none to trust', async (t) => {
  const { clearSlotManifest, loadSlotManifest, saveSlotManifest } = await import('./slot.js');
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'f'), 'x');
  const { manifest } = await sync(agent, ctx, client);
  const slot = await openSlot(agent, 'ctx1');
  await saveSlotManifest(slot, manifest);
  assert.equal((await loadSlotManifest(slot))?.manifest, manifest, 'the manifest just written is not read back');
  assert.equal((await loadSlotManifest(slot))?.digest, manifestDigest(manifest));
  await clearSlotManifest(slot);
  assert.equal(await loadSlotManifest(slot), undefined);
  // A file this process did not write (another agent's, or one older than it) is read.
  const other = { entries: [...manifest.entries, { path: 'g', type: 'dir' as const, mode: 0o755, mtimeMs: 5 }] };
  await writeFile(path.join(slot.base, 'manifest.json'), JSON.stringify(other));
  assert.deepEqual(await loadSlotManifest(slot), { digest: manifestDigest(other), manifest: other });
  await saveSlotManifest(slot, manifest);
  await writeFile(path.join(slot.base, 'manifest.json'), JSON.stringify(other) + ' ');
  assert.deepEqual((await loadSlotManifest(slot))?.manifest, other, 'rewritten in place: read again');
  await slot.release();
});

test('slot manifests kept by cost: the least recently used is dropped past the bound, and read from its file again', async (t) => {
  const { keptSlotManifests, loadSlotManifest, manifestCost, saveSlotManifest } = await import('./slot.js');
  const agent = await tmp(t);
  const manifest = (name: string): ContextManifest => ({ entries: [{ path: name, type: 'file', mode: 0o644, mtimeMs: 1, size: 0, digest: `sha256:${'0'.repeat(64)}` }] });
  const [a, b, c] = ['a', 'b', 'c'].map(manifest);
  const bound = keptSlotManifests.maxCost;
  keptSlotManifests.maxCost = 2 * manifestCost(JSON.stringify(a).length); // two of them
  t.after(() => void (keptSlotManifests.maxCost = bound));
  const slots = [];
  for (const [id, m] of [['sa', a], ['sb', b], ['sc', c]] as const) {
    const slot = await openSlot(agent, id);
    slots.push(slot);
    if (id === 'sc') assert.equal((await loadSlotManifest(slots[0]!))?.manifest, a, 'a read: a is the most recent, b the least');
    await saveSlotManifest(slot, m!);
    await slot.release();
  }
  assert.equal((await loadSlotManifest(slots[0]!))?.manifest, a, 'kept');
  assert.equal((await loadSlotManifest(slots[2]!))?.manifest, c, 'kept');
  const reread = await loadSlotManifest(slots[1]!);
  assert.notEqual(reread?.manifest, b, 'dropped: parsed from its file');
  assert.deepEqual(reread, { digest: manifestDigest(b!), manifest: b });
  assert.ok(keptSlotManifests.cost <= keptSlotManifests.maxCost);
});

test("a context file's mtime reaches the agent's copy at the microsecond the client's lstat gave, never a millisecond below (fileTime)", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-filetime-'));
  const file = path.join(dir, 'f');
  await writeFile(file, '');
  try {
    const base = Math.floor(Date.UTC(2026, 11, 5, 23, 0, 0) / 1000);
    for (let i = 0; i < 2000; i++) {
      const sec = base + i;
      const usec = (i * 7919) % 1_000_000; // spread over the second; ext4 keeps what utimes gives to the nanosecond
      const ms = sec * 1e3 + (usec * 1000) / 1e6; // mtimeMs as Node's lstat computes it on the client
      await utimes(file, fileTime(ms), fileTime(ms));
      const st = await lstat(file, { bigint: true });
      assert.equal(st.mtimeNs / 1000n, BigInt(sec) * 1_000_000n + BigInt(usec), `mtime ${ms} ms`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
