/**
 * `.wh.` names in plain tars: a build context (on stdin or from a URL) and an
 * archive ADD extracts are not layers, so `.wh.NAME` is an ordinary file
 * there; a `.wh...` entry never removes the temp dir, the directory above the
 * ADD destination or the build's mount dir. A name that cannot be stored in a
 * layer (`.wh...`) is refused at the step with one line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makeTar, type TarSpec } from '../layer/testing.js';
import { kiln } from '../testing/kiln.js';
import { buildFixture, type BuildFixture } from './test-support.js';

let fx: BuildFixture;
let server: Server | undefined;

before(async () => {
  fx = await buildFixture('kiln-build-wh-');
});
after(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await fx?.cleanup();
});

async function tarBytes(spec: TarSpec): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of makeTar(spec)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A TMPDIR of its own with a file in it, so a build that removed it would show. */
function ownTmpdir(name: string): { env: Record<string, string>; dir: string; sentinel: string } {
  const dir = path.join(fx.tmp, name);
  mkdirSync(dir);
  const sentinel = path.join(dir, 'sentinel');
  writeFileSync(sentinel, 'still here');
  return { env: { TMPDIR: dir }, dir, sentinel };
}

async function assertCheckClean(): Promise<void> {
  const r = await kiln(['system', 'check'], { root: fx.root });
  assert.equal(r.code, 0, `system check: ${r.stdout}${r.stderr}`);
}

test('a context tar with .wh... and .wh.NAME entries (stdin and URL): ordinary files, TMPDIR untouched', async () => {
  const ctx = await tarBytes([
    { name: 'Dockerfile', body: 'FROM busybox\nCOPY .wh... /dots\nCOPY .wh.Dockerfile /whd\nCOPY .wh./x /x\n' },
    { name: '.wh...', body: 'dots\n' },
    { name: '.wh..', body: 'dot\n' },
    { name: '.wh.Dockerfile', body: 'not a whiteout\n' },
    { name: '.wh./x', body: 'under .wh.\n' },
  ]);
  const t = ownTmpdir('tmp-stdin');
  const out = path.join(fx.tmp, 'out-stdin');
  const r = await fx.build(['-q', '-o', `type=local,dest=${out}`, '-'], ctx, t.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(t.sentinel, 'utf8'), 'still here');
  assert.deepEqual(readdirSync(t.dir), ['sentinel'], 'the unpacked context is removed, nothing else');
  assert.equal(readFileSync(path.join(out, 'dots'), 'utf8'), 'dots\n');
  assert.equal(readFileSync(path.join(out, 'whd'), 'utf8'), 'not a whiteout\n');
  assert.equal(readFileSync(path.join(out, 'x'), 'utf8'), 'under .wh.\n');

  server = createServer((_req, res) => res.writeHead(200, { 'content-length': ctx.length }).end(ctx));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const u = ownTmpdir('tmp-url');
  const outUrl = path.join(fx.tmp, 'out-url');
  const ru = await fx.build(['-q', '-o', `type=local,dest=${outUrl}`, `http://127.0.0.1:${(server.address() as AddressInfo).port}/ctx.tar`], undefined, u.env);
  assert.equal(ru.code, 0, ru.stderr);
  assert.deepEqual(readdirSync(u.dir), ['sentinel']);
  assert.equal(readFileSync(path.join(outUrl, 'dots'), 'utf8'), 'dots\n');
  await fx.assertNoLeftovers();
  await assertCheckClean();
});

test('ADD of an archive: .wh.NAME is a file and removes nothing below; .wh... never removes the directory above or the mount dir', async () => {
  const dir = fx.context({
    Dockerfile: [
      'FROM busybox AS added',
      'RUN mkdir -p /dest/sub && echo lower > /dest/keep && echo lower > /dest/sub/keep',
      'ADD names.tar /dest/',
      'RUN cat /dest/.wh.keep > /seen',
      'FROM busybox',
      'COPY --from=added /dest/keep /dest/sub/keep /seen /out/',
      '',
    ].join('\n'),
  });
  writeFileSync(path.join(dir, 'names.tar'), await tarBytes([{ name: '.wh.keep', body: 'a file\n' }, { name: 'sub/.wh..wh..opq', body: '' }]));
  const out = path.join(fx.tmp, 'out-add');
  const r = await fx.build(['-q', '-o', `type=local,dest=${out}`, dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(path.join(out, 'out')).sort(), ['keep', 'seen']);
  assert.equal(readFileSync(path.join(out, 'out', 'seen'), 'utf8'), 'a file\n');
  assert.equal(readFileSync(path.join(out, 'out', 'keep'), 'utf8'), 'lower\n');

  writeFileSync(path.join(dir, 'dots.tar'), await tarBytes([{ name: '.wh...', body: 'dots\n' }]));
  for (const dest of ['/', '/dest/sub/']) {
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nRUN mkdir -p /dest/sub && echo lower > /dest/keep\nADD dots.tar ${dest}\n`);
    const bad = await fx.build(['-q', dir]);
    assert.equal(bad.code, 1, bad.stderr);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(lines[0]!, new RegExp(`Dockerfile:3: .*${dest.replace(/\//g, '\\/')}\\.wh\\.\\.\\.: a file named "\\.wh\\.\\.\\." cannot be stored in a layer`));
  }
  assert.ok(existsSync(path.join(fx.root, 'layers')), 'the store is still there');
  await fx.assertNoLeftovers();
  await assertCheckClean();
});
