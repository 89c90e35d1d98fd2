import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { CriLogWriter, criRecord } from './crilog.js';
import { readCriLog, writeLogs, type LogEntry } from './logs.js';

async function collect(it: AsyncIterable<LogEntry>): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') =>
    new Writable({
      write(c: Buffer, _e, cb) {
        out[k] += c.toString();
        cb();
      },
    });
  await writeLogs(it, { stdout: sink('stdout'), stderr: sink('stderr') });
  return out;
}

test('the writer produces CRI records: F lines, P for long lines, F for a last line without newline', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.log');
  const w = new CriLogWriter(file, { maxLine: 8 });
  const out = new PassThrough();
  const err = new PassThrough();
  const done = Promise.all([w.pipe('stdout', out), w.pipe('stderr', err)]);
  out.write('hello\nwor');
  out.write('ld\n0123456789ab\ntail');
  err.end('oops\n');
  out.end();
  await done;
  await w.close();
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] /);
  assert.deepEqual(
    lines.map((l) => l.replace(/^\S+ /, '')),
    ['stdout F hello', 'stdout F world', 'stdout P 01234567', 'stdout F 89ab', 'stderr F oops', 'stdout F tail'],
  );
  assert.deepEqual(await collect(readCriLog(file)), { stdout: 'hello\nworld\n0123456789ab\ntail\n', stderr: 'oops\n' });
});

test('tail, since and until select records; tail crosses 64 KiB chunks', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.log');
  const recs: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    const time = new Date(Date.UTC(2026, 10, 23, 10, 0, i)).toISOString().replace('Z', '000000Z');
    recs.push(criRecord(i % 2 ? 'stderr' : 'stdout', 'F', Buffer.from(`line ${i} ${'x'.repeat(40)}`), time));
  }
  // One long line split in two records at the end.
  recs.push(criRecord('stdout', 'P', Buffer.from('long-'), '2026-11-23T11:00:00.000000000Z'));
  recs.push(criRecord('stdout', 'F', Buffer.from('end'), '2026-11-23T11:00:00.000000000Z'));
  await writeFile(file, Buffer.concat(recs));
  const tail3 = await collect(readCriLog(file, { tail: 3 }));
  assert.equal(tail3.stdout, `line 2998 ${'x'.repeat(40)}\nlong-end\n`);
  assert.equal(tail3.stderr, `line 2999 ${'x'.repeat(40)}\n`);
  const tail3000 = await collect(readCriLog(file, { tail: 3000 }));
  assert.equal(tail3000.stdout.split('\n').length + tail3000.stderr.split('\n').length - 2, 3000);
  assert.ok(tail3000.stderr.startsWith('line 1 '));
  assert.equal((await collect(readCriLog(file, { tail: 0 }))).stdout, '');
  const all = await collect(readCriLog(file, { tail: 100000 }));
  assert.ok(all.stdout.startsWith('line 0 '));
  const window = await collect(readCriLog(file, { since: '2026-11-23T10:00:10Z', until: new Date(Date.UTC(2026, 10, 23, 10, 0, 12)) }));
  assert.equal(window.stdout, `line 10 ${'x'.repeat(40)}\nline 12 ${'x'.repeat(40)}\n`);
  assert.equal(window.stderr, `line 11 ${'x'.repeat(40)}\n`);
  const unix = await collect(readCriLog(file, { since: String(Date.UTC(2026, 10, 23, 10, 49, 59) / 1000) }));
  assert.equal(unix.stderr, `line 2999 ${'x'.repeat(40)}\n`);
  await assert.rejects(readCriLog(file, { since: 'yesterday' }).next(), /invalid since time "yesterday"/);
});

test('follow yields records appended later and ends when done; timestamps prefix lines', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'c.log');
  await writeFile(file, criRecord('stdout', 'F', Buffer.from('first'), '2026-11-23T10:00:00.000000000Z'));
  let done = false;
  const seen: string[] = [];
  const reading = (async () => {
    for await (const e of readCriLog(file, { follow: true, pollMs: 10, isDone: async () => done })) seen.push(e.content.toString());
  })();
  // Appended once the reader has read what was there, and seen while it follows (waited for: a loaded machine
  // takes longer than any fixed pause to poll again).
  const seenAll = async (n: number) => {
    for (const end = Date.now() + 30_000; seen.length < n && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  };
  await seenAll(1);
  await appendFile(file, criRecord('stdout', 'F', Buffer.from('second')));
  await seenAll(2);
  assert.deepEqual(seen, ['first', 'second']);
  await appendFile(file, criRecord('stderr', 'F', Buffer.from('last')));
  done = true;
  await reading;
  assert.deepEqual(seen, ['first', 'second', 'last']);
  const out = { s: '' };
  const w = new Writable({ write: (c: Buffer, _e, cb) => ((out.s += c.toString()), cb()) });
  await writeLogs(readCriLog(file), { stdout: w, stderr: w }, { timestamps: true });
  assert.ok(out.s.startsWith('2026-11-23T10:00:00.000000000Z first\n'));
});
