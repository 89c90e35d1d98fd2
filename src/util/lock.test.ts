import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { lock, tryLock } from './lock.js';
import { selfToken } from './process.js';
import { run, tempDir } from '../testing/store-fixture.js';

test('a lock names its holder, and waiters give up with UNAVAILABLE', async (t) => {
  const path = join(await tempDir(t), 'kiln.lock');
  const release = await lock(path);
  assert.equal((await readFile(path, 'utf8')).trim(), selfToken());
  const busy = await tryLock(path);
  assert.deepEqual(busy, { heldBy: selfToken() });
  await assert.rejects(lock(path, { timeoutMs: 50, what: 'kiln store /x' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.message, `kiln store /x is locked by process ${process.pid} (${path})`);
    return true;
  });
  await release();
  const again = await tryLock(path);
  assert.equal(typeof again, 'function');
});

test('a lock left by a dead process, or a reused pid, is taken over', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'kiln.lock');
  // A process that took the lock and was killed.
  const r = await run(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(path)}, process.pid + ':' + require('fs').readFileSync('/proc/self/stat','utf8').split(') ')[1].split(' ')[19]); process.kill(process.pid, 'SIGKILL')`]);
  assert.equal(r.signal, 'SIGKILL');
  const first = await lock(path, { timeoutMs: 1000 });
  await first();
  // Our own pid with another start time: the pid was reused, the holder is gone.
  await writeFile(path, `${process.pid}:1\n`);
  const second = await lock(path, { timeoutMs: 1000 });
  assert.equal((await readFile(path, 'utf8')).trim(), selfToken());
  await second();
});

test('a sync lock: taken and released without the thread pool, waits for a held one like any other, and takes over a dead holder', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'kiln.lock');
  const release = await lock(path, { sync: true });
  assert.equal((await readFile(path, 'utf8')).trim(), selfToken());
  let second = false;
  const waiting = lock(path, { sync: true, timeoutMs: 5000 }).then((r) => {
    second = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(second, false, 'a held lock is waited for');
  await release();
  await release(); // twice is harmless
  const r2 = await waiting;
  await r2();
  await assert.rejects(readFile(path), /ENOENT/, 'released: no lock file left');
  await writeFile(path, '999999999:1\n'); // a holder that is gone
  const r3 = await lock(path, { sync: true, timeoutMs: 5000 });
  assert.equal((await readFile(path, 'utf8')).trim(), selfToken());
  await r3();
});
