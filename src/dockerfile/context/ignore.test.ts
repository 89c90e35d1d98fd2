import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadIgnore, parseIgnore } from './ignore.js';
import { walkContext } from './walk.js';

test('patterns: *, ?, **, classes, escapes, leading /, parents, last match wins', () => {
  const m = parseIgnore(['# comment', '', '*.md', '!README.md', '/build', 'docs/**/*.png', '**/node_modules', 'tmp?', 'x[0-9]', 'a\\*b', '  spaced  ', '!build/keep', 'logs/**'].join('\n'));
  const cases: [string, boolean][] = [
    ['notes.md', true],
    ['README.md', false],
    ['sub/notes.md', false], // * does not cross /
    ['build', true],
    ['build/out/bin', true], // a parent matched
    ['build/keep', false],
    ['docs/a.png', true],
    ['docs/x/y/a.png', true],
    ['docs/a.jpg', false],
    ['node_modules', true],
    ['web/app/node_modules/x/index.js', true],
    ['tmp1', true],
    ['tmp12', false],
    ['x7', true],
    ['xa', false],
    ['a*b', true],
    ['axb', false],
    ['spaced', true],
    ['logs', false], // logs/** matches what is under logs, not logs itself
    ['logs/today', true],
    ['src/main.go', false],
  ];
  for (const [p, want] of cases) assert.equal(m.excludes(p), want, p);
});

test('patterns are cleaned like paths; bad ones are located', () => {
  const m = parseIgnore('./a/../b/\n/c//d\n');
  assert.deepEqual(m.patterns.map((p) => p.text), ['b', 'c/d']);
  assert.throws(() => parseIgnore('ok\n!\n', 'ctx/.dockerignore'), { message: /^ctx\/\.dockerignore:2: illegal exclusion pattern: "!"/ });
  assert.throws(() => parseIgnore('[z-a]\n'), { message: /^\.dockerignore:1: bad pattern "\[z-a\]"/ });
});

async function tree(files: Record<string, string | { link: string } | null>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kiln-ctx-'));
  for (const [p, v] of Object.entries(files)) {
    const abs = path.join(dir, p);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    if (v === null) await fs.mkdir(abs, { recursive: true });
    else if (typeof v === 'string') await fs.writeFile(abs, v);
    else await fs.symlink(v.link, abs);
  }
  return dir;
}

test('walker: yields what is not ignored, parents first, symlinks not followed', async (t) => {
  const dir = await tree({
    'Dockerfile': 'FROM a\n',
    '.dockerignore': 'secret\nbuild\n!build/keep.txt\n*.log\n',
    'src/main.go': 'package main\n',
    'src/z.log': 'x',
    'secret/key': 'k',
    'build/out.bin': 'bin',
    'build/keep.txt': 'keep',
    'empty': null,
    'link-out': { link: '/etc/passwd' },
    'link-in': { link: 'src/main.go' },
    'link-dir': { link: '/etc' },
  });
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.chmod(path.join(dir, 'src/main.go'), 0o640);
  const { matcher, file } = await loadIgnore(dir);
  assert.equal(file, path.join(dir, '.dockerignore'));
  const entries = [];
  for await (const e of walkContext(dir, { ignore: matcher })) entries.push(e);
  assert.deepEqual(entries.map((e) => `${e.type} ${e.path}`), [
    'file .dockerignore',
    'file Dockerfile',
    'dir build',
    'file build/keep.txt',
    'dir empty',
    'symlink link-dir', // a link to a directory outside: reported, never entered
    'symlink link-in',
    'symlink link-out',
    'dir src',
    'file src/main.go',
    'file src/z.log', // *.log matches only at the top, as in Docker
  ]);
  const main = entries.find((e) => e.path === 'src/main.go');
  assert.equal(main?.mode, 0o640);
  assert.equal(main?.size, 13);
  assert.equal(entries.find((e) => e.path === 'link-out')?.linkTarget, '/etc/passwd');
  assert.equal(entries.find((e) => e.path === 'link-out')?.size, 0);
});

test('a named Dockerfile brings its own <name>.dockerignore', async (t) => {
  const dir = await tree({ '.dockerignore': 'a\n', 'docker/app.Dockerfile': 'FROM x\n', 'docker/app.Dockerfile.dockerignore': 'b\n', a: '1', b: '2' });
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const own = await loadIgnore(dir, 'docker/app.Dockerfile');
  assert.equal(own.file, path.join(dir, 'docker/app.Dockerfile.dockerignore'));
  assert.deepEqual([own.matcher.excludes('a'), own.matcher.excludes('b')], [false, true]);
  const plain = await loadIgnore(dir, 'Dockerfile');
  assert.equal(plain.file, path.join(dir, '.dockerignore'));
  const none = await loadIgnore(path.join(dir, 'docker'));
  assert.equal(none.file, undefined);
  assert.equal(none.matcher.excludes('anything'), false);
});

test('the walk lists names in UTF-8 byte order, also where it differs from JavaScript string order', async (t) => {
  // U+E000 sorts before an astral character (a surrogate pair) as a JavaScript string, after it as UTF-8.
  const names = ['b', 'B', 'a.txt', 'a-1', 'é', '\uE000', '😀', 'z'];
  const dir = await tree(Object.fromEntries(names.map((n) => [`x/${n}`, n])));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const bytes = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  assert.deepEqual(bytes.slice(-2), ['\uE000', '😀']);
  assert.deepEqual([...walkContext(path.join(dir, 'x'))].map((e) => e.path), bytes);
  // A directory of plain names (the quick comparison): the same order as bytes.
  const plain = await tree(Object.fromEntries(['b', 'B', 'a.txt', 'a-1', 'z', '_'].map((n) => [n, n])));
  t.after(() => fs.rm(plain, { recursive: true, force: true }));
  assert.deepEqual([...walkContext(plain)].map((e) => e.path), ['B', '_', 'a-1', 'a.txt', 'b', 'z']);
});
