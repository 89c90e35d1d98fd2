import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffWalks, walkRoot } from './walk.js';

test('snapshot walk diff: added, changed, deleted subtrees, replaced dirs and types, ignored paths', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kiln-walk-'));
  try {
    const w = (p: string, s = 'x') => {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), s);
    };
    w('a/keep');
    w('a/change');
    w('gone/deep/f');
    w('swap/inner');
    w('dir2file/x');
    w('mode');
    w('proc/ignored');
    const ignore = (rel: string) => rel === 'proc' || rel.startsWith('proc/');
    const before = walkRoot(root, ignore);
    assert.ok(!before.has('proc') && !before.has('proc/ignored'));
    w('a/change', 'yy');
    w('new/sub/file');
    rmSync(path.join(root, 'gone'), { recursive: true });
    rmSync(path.join(root, 'swap'), { recursive: true });
    w('swap/other');
    rmSync(path.join(root, 'dir2file'), { recursive: true });
    symlinkSync('/a/keep', path.join(root, 'dir2file'));
    chmodSync(path.join(root, 'mode'), 0o600);
    w('proc/ignored', 'changed');
    const d = diffWalks(before, walkRoot(root, ignore));
    assert.deepEqual(d.paths, ['a', 'a/change', 'dir2file', 'mode', 'new', 'new/sub', 'new/sub/file', 'swap', 'swap/other']);
    assert.deepEqual(d.deleted, ['gone', 'swap/inner']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('snapshot modes: full sees content (not times), redo sees mode, size and mtime, time sees the mtime only', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kiln-walk-modes-'));
  try {
    const f = (p: string) => path.join(root, p);
    for (const p of ['touched', 'rewritten', 'chmodded', 'grown']) writeFileSync(f(p), 'abc');
    const old = new Date('2020-01-01T00:00:00Z');
    for (const p of ['touched', 'rewritten', 'chmodded', 'grown']) utimesSync(f(p), old, old);
    const none = () => false;
    const memo = new Map();
    const before = { full: walkRoot(root, none, 'full', memo), redo: walkRoot(root, none, 'redo'), time: walkRoot(root, none, 'time'), stat: walkRoot(root, none) };
    utimesSync(f('touched'), new Date(), new Date()); // same bytes, new mtime
    writeFileSync(f('rewritten'), 'xyz'); // same size, new bytes, the old mtime put back
    utimesSync(f('rewritten'), old, old);
    chmodSync(f('chmodded'), 0o600); // mode only
    writeFileSync(f('grown'), 'abcdef');
    utimesSync(f('grown'), old, old); // size only
    const changed = (mode: 'full' | 'redo' | 'time' | undefined, b: Map<string, string>) => diffWalks(b, walkRoot(root, none, mode, memo)).paths;
    assert.deepEqual(changed('full', before.full), ['chmodded', 'grown', 'rewritten']);
    assert.deepEqual(changed('redo', before.redo), ['chmodded', 'grown', 'touched']);
    assert.deepEqual(changed('time', before.time), ['touched']);
    assert.deepEqual(changed(undefined, before.stat), ['chmodded', 'grown', 'rewritten', 'touched']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
