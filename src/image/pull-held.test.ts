/**
 * fetchBlob and a blob's ingest that another writer holds: it waits while the holder (another kiln process) writes,
 * slowly, past the stall limit, and takes the blob it committed; it fails once the holder has written nothing for
 * the stall limit, in one line naming the ingest, the store and the process; any other UNAVAILABLE from the
 * store's writer (containerd gone) fails at once, without a wait. (Each fetch is given an abort signal well past
 * what it should take: a wait with no bound fails its test instead of keeping the file's process alive.)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { errorLine } from '../cli/error-line.js';
import { unavailable } from '../errors.js';
import { openStore } from '../content/index.js';
import { ingestPaths } from '../content/ingest.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor } from '../oci/types.js';
import type { Repository } from '../registry/repository.js';
import { withStallLimit } from '../testing/ingest-stall.js';
import { repoRoot, sha256, tempDir } from '../testing/store-fixture.js';
import type { ProgressEvent } from './progress.js';
import { fetchBlob } from './pull.js';

/** A registry that must not be asked: the blob comes from the holder, or not at all. */
const noRegistry = {
  getBlob: () => assert.fail('the registry was asked for the blob'),
} as unknown as Repository;

const layer = (data: Buffer): Descriptor => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(data), size: data.length });

/**
 * Another kiln process holding the blob's ingest in the store at `root`: it writes 10 bytes, says "held", then
 * writes nothing (`writeMs` < 0) or a byte every 100 ms for `writeMs` and commits the whole.
 */
async function holder(t: { after(fn: () => Promise<void>): void }, root: string, data: Buffer, writeMs: number): Promise<{ child: ChildProcess; exited: Promise<number | null> }> {
  const script = join(root, '..', 'holder.mjs');
  await writeFile(
    script,
    `import { openStore } from ${JSON.stringify(join(repoRoot(), 'dist', 'content', 'index.js'))};
     const [root, hex, ms] = process.argv.slice(2);
     const data = Buffer.from(hex, 'hex');
     const digest = 'sha256:' + (await import('node:crypto')).createHash('sha256').update(data).digest('hex');
     const store = await openStore(root);
     const w = await store.content.writer(digest);
     await w.write([data.subarray(0, 10)]);
     process.stdout.write('held\\n');
     if (Number(ms) < 0) setInterval(() => undefined, 1 << 30);
     else {
       const until = performance.now() + Number(ms);
       let at = 10;
       while (performance.now() < until && at < data.length - 1) {
         await new Promise((r) => setTimeout(r, 100));
         await w.write([data.subarray(at, ++at)]);
       }
       await w.write([data.subarray(at)]);
       await w.commit({ digest, size: data.length });
       await store.close();
     }`,
  );
  const child = spawn(process.execPath, [script, root, data.toString('hex'), String(writeMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'close').then(([code]) => code as number | null);
  t.after(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('held\n')) resolve();
    });
    void exited.then((code) => reject(new Error(`the holder exited (${code}) before it held the ingest: ${err}`)));
  });
  return { child, exited };
}

test('a blob whose ingest another kiln process holds and keeps writing, slowly, past the stall limit is waited for and taken from it', { timeout: 60_000 }, async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  t.after(() => store.close());
  const data = randomBytes(1000);
  const limit = 1500;
  const { exited } = await holder(t, root, data, 2.5 * limit);
  const events: ProgressEvent[] = [];
  const started = performance.now();
  const fetched = await withStallLimit(limit, () => fetchBlob(store.content, noRegistry, layer(data), { emit: (e) => events.push(e) }, AbortSignal.timeout(30_000)));
  const took = performance.now() - started;
  assert.equal(fetched, false, 'the blob the holder committed, not a download');
  assert.ok(took >= 2 * limit, `waited ${took} ms`);
  assert.deepEqual(
    events.map((e) => [e.status, e.detail]),
    [
      ['Waiting', 'for another kiln process'],
      ['Already exists', undefined],
    ],
  );
  assert.equal(await exited, 0);
  assert.ok((await readFile(join(root, 'blobs', 'sha256', sha256(data).slice(7)))).equals(data));
});

test('a blob whose ingest another kiln process holds and writes nothing to fails once nothing moved for the stall limit: one line naming the ingest, the store and the process', { timeout: 30_000 }, async (t) => {
  const root = join(await tempDir(t), 'store');
  const store = await openStore(root);
  t.after(() => store.close());
  const data = randomBytes(1000);
  const { child } = await holder(t, root, data, -1);
  const started = performance.now();
  const failure = await withStallLimit(800, () => fetchBlob(store.content, noRegistry, layer(data), { emit: () => undefined }, AbortSignal.timeout(15_000))).then(
    () => assert.fail('fetched while another process held the ingest'),
    (e: unknown) => e,
  );
  const took = performance.now() - started;
  const digest = sha256(data);
  const line = errorLine(failure, false);
  const lock = ingestPaths(root, digest).lock;
  const m = new RegExp(
    `^kiln: ingest "${digest}" in kiln store ${root} is held by process ${child.pid}, which has written nothing for (\\d+\\.\\d) s ` +
      `\\(stop process ${child.pid}, which holds ${lock}, then run the command again\\)$`,
  ).exec(line);
  assert.ok(m, line);
  assert.ok(Number(m[1]) >= 0.8, line);
  assert.ok(took >= 800, `failed after ${took} ms, before the stall limit`);
  assert.equal((failure as { code?: string }).code, 'UNAVAILABLE');
});

test("a store writer's other UNAVAILABLE (containerd gone) fails the fetch at once: no wait, no second try", { timeout: 10_000 }, async () => {
  const gone = unavailable('lost the connection to containerd at /run/containerd/containerd.sock during ingest kiln-sha256:1', {
    hint: 'containerd stopped or restarted; run the command again once it is up (what was written so far is kept)',
  });
  let writers = 0;
  const content = {
    stat: async () => undefined,
    writer: async () => {
      writers++;
      throw gone;
    },
  } as unknown as ContentStore;
  const events: ProgressEvent[] = [];
  await assert.rejects(fetchBlob(content, noRegistry, layer(randomBytes(100)), { emit: (e) => events.push(e) }, AbortSignal.timeout(5_000)), (e) => e === gone);
  assert.equal(writers, 1);
  assert.deepEqual(events, []);
});
