/**
 * Hostile base layers and contexts against `kiln executor` (kaniko's CVEs:
 * tar path traversal, symlink escapes, a layer or COPY overwriting the
 * executor's own files): refused with one line, or kept inside the root, and
 * kiln's state dir — inside the root, as in a container — left intact.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pack } from 'tar-stream';
import { kiln, kilnOk } from '../testing/kiln.js';
import { readAll, startRegistry, type TestRegistry } from '../testing/index.js';
import { buildFixture, type BuildFixture } from '../builder/test-support.js';

let fx: BuildFixture;
let reg: TestRegistry;
before(async () => {
  fx = await buildFixture('kiln-exec-hostile-');
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  await fx?.cleanup();
});

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; body?: string };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const p = pack();
  const done = readAll(p as unknown as AsyncIterable<Uint8Array>);
  for (const e of entries) p.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}), mode: e.type === 'directory' ? 0o755 : 0o644 }, e.body ?? '');
  p.finalize();
  return done;
}

let n = 0;
/** A one-layer image made of `entries` (kept verbatim by kiln import), pushed to the registry. */
async function hostileImage(entries: Entry[]): Promise<string> {
  const file = path.join(fx.tmp, `layer${++n}.tar`);
  writeFileSync(file, await tarOf([{ name: 'bin/', type: 'directory' }, ...entries]));
  const ref = `${reg.host}/hostile/img${n}:1`;
  await kilnOk(['import', file, ref], { root: fx.root });
  await kilnOk(['push', ref], { root: fx.root });
  return ref;
}

/** Runs the executor with its state dir inside the root (ROOT/kiln), as in a container. */
async function execute(dockerfile: string, extra: string[] = [], input?: Buffer) {
  const dir = path.join(fx.tmp, `run${++n}`);
  const root = path.join(dir, 'root');
  const ctx = fx.context({ Dockerfile: dockerfile, f: 'context file\n' });
  const context = input ? 'tar://stdin' : `dir://${ctx}`;
  const r = await kiln(['executor', '--context', context, '--root', root, '--state-dir', path.join(root, 'kiln'), '--no-push', ...extra], {
    root: fx.root,
    ...(input ? { input } : {}),
  });
  return { ...r, dir, root, store: path.join(root, 'kiln', 'store', 'index.json') };
}

const intact = (store: string) => assert.doesNotThrow(() => JSON.parse(readFileSync(store, 'utf8')), 'kiln\'s store index is intact');

test('a base layer writing into kiln\'s own directory is refused', async () => {
  const ref = await hostileImage([{ name: 'kiln/store/index.json', body: 'owned' }]);
  const r = await execute(`FROM ${ref}\nCOPY f /f\n`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /tar entry "kiln\/store\/index.json": it would write over kiln's own files/);
  intact(r.store);
});

test('a symlink into kiln\'s directory, then a file through it, is refused', async () => {
  const ref = await hostileImage([{ name: 'esc', type: 'symlink', linkname: '/kiln/store' }, { name: 'esc/index.json', body: 'owned' }]);
  const r = await execute(`FROM ${ref}\nCOPY f /f\n`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /tar entry "esc\/index.json": it would write over kiln's own files/);
  intact(r.store);
});

test('a hardlink to kiln\'s files and a path climbing out with .. are refused', async () => {
  const link = await hostileImage([{ name: 'grab', type: 'link', linkname: 'kiln/store/index.json' }]);
  const r1 = await execute(`FROM ${link}\nCOPY f /f\n`);
  assert.notEqual(r1.code, 0);
  assert.match(r1.stderr, /hardlink to kiln's own files or a mount/);
  const up = await hostileImage([{ name: '../escaped', body: 'out' }]);
  const r2 = await execute(`FROM ${up}\nCOPY f /f\n`);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /tar entry "..\/escaped": path escapes the root directory through ".."/);
  assert.ok(!existsSync(path.join(r2.dir, 'escaped')));
  intact(r2.store);
});

test('symlinks pointing out of the root (relative or absolute) stay inside it; whiteouts do not remove kiln\'s files', async () => {
  const ref = await hostileImage([
    { name: 'up', type: 'symlink', linkname: '../../../../..' },
    { name: 'up/planted', body: 'p1' },
    { name: 'abs', type: 'symlink', linkname: '/' },
    { name: 'abs/planted2', body: 'p2' },
    { name: '.wh.kiln' },
    { name: 'etc/', type: 'directory' },
  ]);
  const r = await execute(`FROM ${ref}\nCOPY f /f\n`, ['--oci-layout-path', path.join(fx.tmp, 'hostile-layout')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(r.root, 'planted'), 'utf8'), 'p1');
  assert.equal(readFileSync(path.join(r.root, 'planted2'), 'utf8'), 'p2');
  assert.ok(!existsSync(path.join(r.dir, 'planted')) && !existsSync('/planted') && !existsSync('/planted2'));
  intact(r.store);
});

test('a context tar climbing out with .., and a COPY onto kiln\'s own files, are refused', async () => {
  const tar = await tarOf([{ name: 'Dockerfile', body: 'FROM scratch\nCOPY f /f\n' }, { name: 'f', body: 'x' }, { name: '../ctx-escape', body: 'out' }]);
  const r1 = await execute('', [], tar);
  assert.notEqual(r1.code, 0);
  assert.match(r1.stderr, /tar entry "..\/ctx-escape": path escapes the root directory through ".."/);
  const base = await hostileImage([{ name: 'etc/', type: 'directory' }]);
  const r2 = await execute(`FROM ${base}\nCOPY f /kiln/store/index.json\n`);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /cannot copy to \/kiln\/store\/index.json: that is kiln's own files/);
  intact(r2.store);
});
