/**
 * COPY's file jobs: bytes, owner, mode and times as asked; at most FILE_JOBS
 * in flight (add hands back a promise only then); a path being written can be
 * waited for; a failure reaches drain once every job has ended.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FILE_JOBS, FileJobs } from './file-jobs.js';

const AS_ROOT = process.geteuid?.() === 0;

test('files are copied with their bytes, owner, mode and times; add waits only when FILE_JOBS are in flight', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-jobs-'));
  try {
    const jobs = new FileJobs();
    const n = FILE_JOBS * 3;
    let waited = 0;
    for (let i = 0; i < n; i++) {
      const src = path.join(dir, `s${i}`);
      writeFileSync(src, `file ${i}`);
      const st = lstatSync(src);
      const pending = jobs.add(path.join(dir, `d${i}`), src, AS_ROOT ? { uid: 1000 + i, gid: 2000 } : undefined, 0o4711, st);
      if (pending) {
        waited++;
        await pending;
      }
    }
    await jobs.drain();
    assert.ok(waited > 0 && waited <= n - FILE_JOBS + 1, `waited ${waited} times`);
    for (let i = 0; i < n; i++) {
      const d = lstatSync(path.join(dir, `d${i}`));
      assert.equal(readFileSync(path.join(dir, `d${i}`), 'utf8'), `file ${i}`);
      assert.equal(d.mode & 0o7777, 0o4711, 'mode set after the owner (chown clears set-id bits)');
      assert.ok(Math.abs(d.mtimeMs - lstatSync(path.join(dir, `s${i}`)).mtimeMs) < 1, 'the source\'s mtime (to the millisecond)');
      if (AS_ROOT) assert.deepEqual([d.uid, d.gid], [1000 + i, 2000]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('settled waits for the job writing a path; a failed job fails drain, and add after it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-jobs-'));
  try {
    const jobs = new FileJobs();
    const src = path.join(dir, 'src');
    writeFileSync(src, 'x'.repeat(1 << 20));
    const st = lstatSync(src);
    const target = path.join(dir, 'out');
    assert.equal(jobs.add(target, src, undefined, undefined, st), undefined);
    assert.equal(jobs.busy(target), true);
    await jobs.settled(target);
    assert.equal(jobs.busy(target), false);
    assert.equal(lstatSync(target).size, 1 << 20);
    jobs.add(path.join(dir, 'missing-dir', 'out'), src, undefined, undefined, st);
    jobs.add(path.join(dir, 'fine'), src, undefined, undefined, st);
    await assert.rejects(jobs.drain(), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.equal(jobs.busy(path.join(dir, 'fine')), false, 'every job ended before drain threw');
    assert.throws(() => jobs.add(path.join(dir, 'later'), src, undefined, undefined, st), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
