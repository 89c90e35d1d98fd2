/**
 * The context upload's messages, both sides in one process: the client's
 * uploadFiles feeding the agent's ContextApplier message by message, as the
 * Build stream carries them (batched for an agent that takes batches, one
 * file a message for an older one). Asserts the agent's copy byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isKilnError } from '../../errors.js';
import { scanContext } from './sync/scan.js';
import { validateManifest } from './sync/validate.js';
import { openSlot } from './sync/slot.js';
import { ContextApplier } from './sync/apply.js';
import { diffManifest, type ContextManifest } from './sync/manifest.js';
import { uploadFiles } from './upload-files.js';
import { treeOf } from './sync/test-tree.js';

const CHUNK = 64 * 1024;

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'kiln-upload-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

interface Msg {
  file?: { digest: string; data: Buffer; last?: boolean };
  file_batch?: { files: { digest: string; data: Buffer; last?: boolean }[] };
}

/** One sync: scan, plan, upload (messages counted by kind), finish. */
async function sync(agentRoot: string, ctx: string, clientRoot: string, opts: { batches: boolean; base?: ContextManifest }) {
  const scanned = await scanContext(ctx, { cacheDir: clientRoot });
  const slot = await openSlot(path.join(agentRoot, 'contexts'), 'ctx1');
  try {
    const manifest = validateManifest(JSON.parse(JSON.stringify(scanned.manifest)));
    const a = new ContextApplier(slot, manifest, agentRoot, opts.base && diffManifest(opts.base, manifest));
    const need = await a.plan();
    const sizes = new Map(manifest.entries.flatMap((e) => (e.digest ? [[e.digest, e.size!] as const] : [])));
    const messages = { file: 0, file_batch: 0, largest: 0 };
    const write = async (m: unknown) => {
      const msg = m as Msg;
      // Through the wire's encoding: each message is copied, as the agent receives it.
      if (msg.file) {
        messages.file++;
        await a.receive(msg.file.digest, Buffer.from(msg.file.data), Boolean(msg.file.last));
      } else if (msg.file_batch) {
        messages.file_batch++;
        messages.largest = Math.max(messages.largest, msg.file_batch.files.reduce((n, f) => n + f.data.length, 0));
        await a.receiveBatch(msg.file_batch.files.map((f) => ({ ...f, data: Buffer.from(f.data) })));
      }
    };
    const sent = await uploadFiles(write, { sources: scanned.sources, sizes }, need, { chunkSize: CHUNK, batches: opts.batches });
    await a.finish();
    return { need, sent, messages, dir: slot.dir, manifest };
  } finally {
    await slot.release();
  }
}

/** path → type, mode, mtime (ms), sha256 of content or link target. */
const tree = (dir: string) => treeOf(dir, async (abs) => createHash('sha256').update(await readFile(abs)).digest('hex'));

/** 3,000 small files over 30 directories, one file over the chunk size, an empty file, a read-only one, a symlink, duplicates. */
async function manySmallFiles(ctx: string): Promise<void> {
  for (let d = 0; d < 30; d++) await mkdir(path.join(ctx, `src/d${d}`), { recursive: true });
  for (let i = 0; i < 3000; i++) await writeFile(path.join(ctx, `src/d${i % 30}/f${i}.txt`), `file ${i} `.repeat(1 + (i % 200)));
  await writeFile(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY . /c/\n');
  await writeFile(path.join(ctx, 'big.bin'), Buffer.alloc(5 * CHUNK + 123, 9)); // over one message
  await writeFile(path.join(ctx, 'empty'), '');
  await writeFile(path.join(ctx, 'dup.txt'), 'file 0 '); // the same bytes as src/d0/f0.txt: sent once, placed twice
  await writeFile(path.join(ctx, 'ro.txt'), 'read only\n');
  await chmod(path.join(ctx, 'ro.txt'), 0o444);
  await symlink('src/d1/f1.txt', path.join(ctx, 'link'));
}

test('upload: 3,000 small files travel in batches of about a chunk; the agent copy matches byte for byte, modes and mtimes too; the stat memo knows every file written', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await manySmallFiles(ctx);
  const r = await sync(agent, ctx, client, { batches: true });
  assert.deepEqual(await tree(r.dir), await tree(ctx));
  const total = r.manifest.entries.filter((e) => e.type === 'file').length;
  assert.equal(r.need.length, total - 1, 'dup.txt has the digest of another file: asked for once');
  assert.equal(r.sent.files, r.need.length);
  // big.bin: 6 chunk messages and an empty last one; the small files in batches, none over a chunk.
  assert.equal(r.messages.file, 7);
  const smallBytes = r.sent.bytes - (5 * CHUNK + 123);
  assert.ok(r.messages.file_batch <= Math.ceil(smallBytes / CHUNK) + 2, `${r.messages.file_batch} batches for ${smallBytes} bytes`);
  assert.ok(r.messages.largest <= CHUNK);
  // The builder's stat memo (in the agent's root) holds each file's digest under its current stat.
  const memoDir = path.join(agent, 'buildcache', 'stat');
  const memo = JSON.parse(await readFile(path.join(memoDir, (await readdir(memoDir))[0]!), 'utf8')) as Record<string, [string, string]>;
  for (const e of r.manifest.entries.filter((x) => x.type === 'file')) {
    const abs = path.join(r.dir, e.path);
    const st = await lstat(abs);
    assert.deepEqual(memo[abs], [`${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`, e.digest!.slice(7)], e.path);
  }
});

test('upload: the next sync sends only a changed and a new file; a deleted file and a retargeted symlink are mirrored', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await manySmallFiles(ctx);
  const first = await sync(agent, ctx, client, { batches: true });
  await writeFile(path.join(ctx, 'src/d7/f7.txt'), 'changed between builds');
  await writeFile(path.join(ctx, 'src/d7/new.txt'), 'new');
  await rm(path.join(ctx, 'src/d8/f8.txt'));
  await rm(path.join(ctx, 'link'));
  await symlink('src/d2/f2.txt', path.join(ctx, 'link'));
  await writeFile(path.join(ctx, 'big.bin'), Buffer.alloc(5 * CHUNK + 123, 10));
  const second = await sync(agent, ctx, client, { batches: true, base: first.manifest });
  assert.equal(second.need.length, 3);
  assert.equal(second.sent.bytes, 'changed between builds'.length + 'new'.length + 5 * CHUNK + 123);
  assert.deepEqual(await tree(second.dir), await tree(ctx));
});

test('upload: to an agent without batches (older), one file message per small file, the same copy', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await manySmallFiles(ctx);
  const r = await sync(agent, ctx, client, { batches: false });
  assert.equal(r.messages.file_batch, 0);
  assert.equal(r.messages.file, r.need.length - 1 + 7);
  assert.deepEqual(await tree(r.dir), await tree(ctx));
});

test('upload: a batch with a partial file, or a file whose bytes do not match, is refused and nothing is placed', async (t) => {
  const [ctx, agent, client] = [await tmp(t), await tmp(t), await tmp(t)];
  await writeFile(path.join(ctx, 'a'), 'alpha');
  await writeFile(path.join(ctx, 'b'), 'beta');
  const scanned = await scanContext(ctx, { cacheDir: client });
  const slot = await openSlot(path.join(agent, 'contexts'), 'ctx1');
  const a = new ContextApplier(slot, validateManifest(scanned.manifest), agent);
  const [da, db] = await a.plan();
  await assert.rejects(a.receiveBatch([{ digest: da, data: Buffer.from('alpha') }]), (e) => isKilnError(e, 'INVALID_ARGUMENT') && /a file batch holds whole files only/.test(e.message));
  await assert.rejects(a.receiveBatch([{ digest: db, data: Buffer.from('bet!'), last: true }]), (e) => isKilnError(e, 'DATA_LOSS') && /upload of [ab]: got sha256:/.test(e.message));
  assert.deepEqual(await readdir(slot.dir), []);
  await slot.release();
});
