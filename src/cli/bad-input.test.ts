/**
 * Input that docker refuses is refused: `kiln import` of a file that is not a
 * tar (text, random bytes, empty, gzipped text) makes no image and leaves the
 * store consistent; a `--format` field that images or ps rows do not have is
 * an error naming it (inspect's maps print `<no value>`, as docker's do); history takes templates too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { kiln, kilnOk, testCache } from '../testing/kiln.js';

let tmp: string;
let root: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-bad-input-'));
  root = path.join(tmp, 'root');
  await kilnOk(['import', path.join(testCache(), 'busybox-rootfs.tar'), 'busybox:latest'], { root });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

async function oneLine(args: string[], re: RegExp, input?: Buffer): Promise<void> {
  const r = await kiln(args, { root, ...(input ? { input } : {}) });
  assert.equal(r.code, 1, `kiln ${args.join(' ')}: exit ${r.code} ${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

test('import of a file that is not a tar is refused with one line; no image, no partial blob, the store is consistent', async () => {
  const files: [string, Buffer, string][] = [
    ['notes.txt', Buffer.from('just some text\n'), 'it ends inside a tar header or entry'],
    ['random.bin', randomBytes(8192), 'a header is not a tar header'],
    ['empty.tar', Buffer.alloc(0), 'it holds no entries'],
    ['text.gz', gzipSync(Buffer.from('gzipped text, not a tar\n')), 'it ends inside a tar header or entry'],
  ];
  for (const [name, bytes, why] of files) {
    const file = path.join(tmp, name);
    writeFileSync(file, bytes);
    await oneLine(['import', file, `bad/${name}:1`], new RegExp(`^kiln: import: ${file.replace(/\./g, '\\.')} is not a tar archive: ${why}`));
  }
  await oneLine(['import', '-', 'bad/stdin:1'], /^kiln: import: - is not a tar archive/, Buffer.from('text on stdin\n'));
  const images = await kilnOk(['images', '--format', '{{.Repository}}'], { root });
  assert.equal(images.stdout, 'busybox\n');
  assert.deepEqual(readdirSync(path.join(root, 'ingest')), []);
  assert.equal((await kiln(['system', 'check'], { root })).code, 0);
});

test('a --format field images or ps rows do not have is an error naming it; inspect prints <no value>', async () => {
  await oneLine(['images', '--format', '{{.NoSuchField}}'], /^kiln: template "\{\{\.NoSuchField\}\}": can't evaluate field NoSuchField; the fields are ID, Repository, Tag/);
  await oneLine(['images', '--format', 'table {{.Repository}}\t{{.Nope}}'], /can't evaluate field Nope/);
  await oneLine(['ps', '-a', '--format', '{{.Bogus}}'], /^kiln: template "\{\{\.Bogus\}\}": can't evaluate field Bogus; the fields are /);
  assert.equal((await kilnOk(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root })).stdout, 'busybox:latest\n');
  assert.equal((await kilnOk(['inspect', '-f', '{{.NoSuch}}', 'busybox'], { root })).stdout, '<no value>\n');
  // history takes templates too (its --format was json or nothing, any other text ignored).
  const hist = await kiln(['history', '--format', '{{.Nope}}', 'busybox'], { root });
  assert.deepEqual([hist.code, hist.stdout, hist.stderr], [1, '', 'kiln: template "{{.Nope}}": can\'t evaluate field Nope; the fields are ID, CreatedSince, CreatedAt, CreatedBy, Size, Comment (use Go template syntax, fields as {{.Name}}, or --format json)\n']);
  assert.match((await kilnOk(['history', '--format', '{{.ID}}|{{.CreatedBy}}', 'busybox'], { root })).stdout, /^[0-9a-f]{12}\|kiln import \S+busybox-rootfs\.tar\n$/);
  assert.match((await kilnOk(['history', '--format', 'table {{.ID}}\t{{.Size}}', 'busybox'], { root })).stdout, /^IMAGE {10}SIZE\n[0-9a-f]{12} {3}\S+\n$/);
});
