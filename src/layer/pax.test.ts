import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodePaxRecords, encodePaxRecords, PaxScanner } from './pax.js';

test('PAX records: lengths count themselves in bytes, values stay binary', () => {
  const bin = Buffer.from([0, 1, 0xff, 0x0a, 0x3d]);
  const enc = encodePaxRecords([['path', 'é'.repeat(4)], ['SCHILY.xattr.security.capability', bin]]);
  assert.equal(enc.subarray(0, 20).toString('latin1').split(' ')[0], String(' path=\n'.length + 8 + 2));
  const dec = decodePaxRecords(enc);
  assert.equal(dec.get('path')!.toString(), 'éééé');
  assert.deepEqual(dec.get('SCHILY.xattr.security.capability'), bin);
  // a 9-byte body needs a 2-digit length that makes it 11, not 10
  assert.equal(encodePaxRecords([['a', 'bcdef']]).toString(), '11 a=bcdef\n');
  assert.throws(() => decodePaxRecords(Buffer.from('99 a=b\n')), /malformed record at byte 0/);
});

test('the scanner finds the records GNU tar wrote, per entry, across GNU long names', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-pax-'));
  const long = 'l'.repeat(150);
  execFileSync('sh', ['-ec', `cd ${dir}; mkdir src; cd src; echo a > a; echo b > ${long}; echo c > c
    setfattr -n user.one -v 1 a; setfattr -n user.three -v 0x00ff c
    tar --xattrs --xattrs-include='user.*' --format=pax -cf ../pax.tar a ${long} c
    tar --format=gnu -cf ../gnu.tar a ${long} c`]);
  const scan = async (file: string): Promise<PaxScanner> => {
    const s = new PaxScanner();
    for await (const _ of createReadStream(file, { highWaterMark: 700 }).pipe(s));
    return s;
  };
  const s = await scan(path.join(dir, 'pax.tar'));
  assert.equal(s.recordsFor(0)!.get('SCHILY.xattr.user.one')!.toString(), '1');
  assert.equal(s.recordsFor(1)!.get('path')!.toString(), long);
  assert.deepEqual(s.recordsFor(2)!.get('SCHILY.xattr.user.three'), Buffer.from([0, 0xff]));
  assert.equal(s.recordsFor(2), undefined, 'records are handed out once');
  const g = await scan(path.join(dir, 'gnu.tar'));
  assert.deepEqual([0, 1, 2, 3].map((i) => g.recordsFor(i)), [undefined, undefined, undefined, undefined]);
  await rm(dir, { recursive: true });
});
