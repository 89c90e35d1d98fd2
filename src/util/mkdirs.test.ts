import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirsSync } from './mkdirs.js';

test('makeDirsSync makes missing directories with the mode, accepts existing ones, and refuses at once where mkdir does', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-mkdirs-'));
  try {
    const deep = path.join(tmp, 'a', 'b', 'c');
    makeDirsSync(deep, 0o711);
    assert.ok(statSync(deep).isDirectory());
    assert.equal(statSync(deep).mode & 0o777, 0o711 & ~process.umask());
    makeDirsSync(deep); // exists: nothing to do
    writeFileSync(path.join(tmp, 'file'), '');
    assert.throws(() => makeDirsSync(path.join(tmp, 'file', 'x')), { code: 'ENOTDIR', syscall: 'mkdir', path: path.join(tmp, 'file', 'x') });
    // procfs answers ENOENT under an existing directory: Node's recursive mkdir spins there for ever
    const t0 = Date.now();
    assert.throws(() => makeDirsSync('/proc/kiln-none/store'), { code: 'ENOENT', syscall: 'mkdir', path: '/proc/kiln-none' });
    assert.ok(Date.now() - t0 < 1000);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
