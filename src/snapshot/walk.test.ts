import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
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
