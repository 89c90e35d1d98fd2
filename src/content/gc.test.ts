import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { collectGarbage, openStore, withLease } from './index.js';
import { repoRoot, run, sha256, storeImage, tempDir, tinyImage } from '../testing/store-fixture.js';

const distIndex = join(repoRoot(), 'dist', 'content', 'index.js');

test('GC keeps what tags, extra roots and live leases reach, and frees the rest', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'store');
  const store = await openStore(root);
  const tagged = await tinyImage({ files: [{ a: '1' }, { b: '2' }] });
  const untagged = await tinyImage({ files: [{ c: '3' }] });
  const rooted = await tinyImage({ files: [{ d: '4' }] });
  await withLease(store, async (s) => {
    await storeImage(s, tagged, 'docker.io/library/tagged:latest');
    await storeImage(s, untagged);
    await storeImage(s, rooted);
  });

  // A process that wrote a blob and has not tagged it yet.
  const script = join(dir, 'holder.mjs');
  await writeFile(
    script,
    `import { openStore } from ${JSON.stringify(distIndex)};
     const store = await openStore(${JSON.stringify(root)});
     await store.content.writeBytes('held by a live process');
     const w = await store.content.writer('in-progress');
     await w.write([Buffer.from('half a layer')]);
     console.log('ready');
     process.stdin.resume();
     process.stdin.on('end', () => process.exit(0));`,
  );
  const holder = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    if (holder.exitCode === null) holder.kill('SIGKILL');
  });
  await once(holder.stdout, 'data');
  // A writer killed mid-way leaves a stale ingest.
  const killed = join(dir, 'killed.mjs');
  await writeFile(
    killed,
    `import { openStore } from ${JSON.stringify(distIndex)};
     const store = await openStore(${JSON.stringify(root)});
     await store.content.writeBytes('killed before tagging');
     const w = await store.content.writer('abandoned');
     await w.write([Buffer.alloc(1000)]);
     process.kill(process.pid, 'SIGKILL');`,
  );
  assert.equal((await run(process.execPath, [killed])).signal, 'SIGKILL');

  const leased = Buffer.from('written under a lease');
  const during = await withLease(store, async (s) => {
    await s.content.writeBytes(leased);
    return collectGarbage(store, [rooted.manifest]);
  });
  const removed = during.removed.map((b) => b.digest).sort();
  assert.deepEqual(removed, [...untagged.blobs.keys(), sha256('killed before tagging')].sort());
  assert.equal(during.bytesFreed, [...untagged.blobs.values()].reduce((n, b) => n + b.length, 0) + 'killed before tagging'.length);
  assert.equal(during.ingestsRemoved.length, 1);
  assert.equal(during.leasesRemoved.length, 1, 'the killed writer leaves a dead lease');
  for (const d of [...tagged.blobs.keys(), ...rooted.blobs.keys(), sha256(leased), sha256('held by a live process')]) {
    assert.ok(await store.content.stat(d), `${d} kept`);
  }
  assert.equal((await readdir(join(root, 'ingest'))).filter((n) => n.endsWith('.data')).length, 1, 'the live writer keeps its ingest');

  // Once the lease ends, the extra root is dropped and the holder exits, their blobs go too.
  holder.stdin.end();
  await once(holder, 'close');
  const after = await collectGarbage(store);
  assert.deepEqual(
    after.removed.map((b) => b.digest).sort(),
    [...rooted.blobs.keys(), sha256(leased), sha256('held by a live process')].sort(),
  );
  assert.deepEqual(after.leasesRemoved, [], 'the holder dropped its lease when it exited');
  assert.equal(after.ingestsRemoved.length, 1);
  assert.deepEqual((await readdir(join(root, 'ingest'))).sort(), []);
  assert.deepEqual((await readdir(join(root, 'leases'))).sort(), []);
  const left = [];
  for await (const b of store.content.list()) left.push(b.digest);
  assert.deepEqual(left.sort(), [...tagged.blobs.keys()].sort());
});
