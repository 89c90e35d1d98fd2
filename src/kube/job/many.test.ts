import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { prefixLines } from './many.js';

test('prefixLines: whole lines, each prefixed, a last partial line flushed at the end', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const w = prefixLines(out, '[a] ');
  w.write('one\ntw');
  w.write('o\n\nthr');
  await new Promise<void>((resolve) => w.end('ee', resolve));
  assert.equal(text, '[a] one\n[a] two\n[a] \n[a] three\n');
});
