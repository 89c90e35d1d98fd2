import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeDirsSync, notADirectoryAt } from './mkdirs.js';

test('makeDirsSync makes missing directories with the mode, accepts existing ones, and refuses at once where mkdir does', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-mkdirs-'));
  try {
    const deep = path.join(tmp, 'a', 'b', 'c');
    makeDirsSync(deep, 0o711);
    assert.ok(statSync(deep).isDirectory());
    assert.equal(statSync(deep).mode & 0o777, 0o711 & ~process.umask());
    makeDirsSync(deep); // exists: nothing to do
    writeFileSync(path.join(tmp, 'file'), '');
    // what is in the way is named, as Go's os.MkdirAll does (containerd, docker): the file, not the path under it
    const file = path.join(tmp, 'file');
    assert.throws(() => makeDirsSync(path.join(file, 'x', 'y')), { code: 'ENOTDIR', syscall: 'mkdir', path: file });
    assert.throws(() => makeDirsSync(file), { code: 'ENOTDIR', syscall: 'mkdir', path: file });
    // procfs answers ENOENT under an existing directory: Node's recursive mkdir spins there for ever
    const t0 = Date.now();
    assert.throws(() => makeDirsSync('/proc/kiln-none/store'), { code: 'ENOENT', syscall: 'mkdir', path: '/proc/kiln-none' });
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`); // not for ever: generous for a loaded machine
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('makeDirsSync through links; notADirectoryAt names what is in the way: a file, a link to one, a dangling link', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'kiln-mkdirs-'));
  try {
    const [file, dir] = [path.join(tmp, 'file'), path.join(tmp, 'dir')];
    writeFileSync(file, '');
    makeDirsSync(dir);
    const [toFile, toDir, dangling] = [path.join(tmp, 'to-file'), path.join(tmp, 'to-dir'), path.join(tmp, 'dangling')];
    symlinkSync(file, toFile);
    symlinkSync('dir', toDir);
    symlinkSync('/nonexistent-kiln/dir', dangling);
    makeDirsSync(path.join(toDir, 'a')); // a link to a directory is one
    assert.ok(statSync(path.join(dir, 'a')).isDirectory());
    assert.throws(() => makeDirsSync(path.join(toFile, 'a')), { code: 'ENOTDIR', syscall: 'mkdir', path: toFile });
    assert.throws(() => makeDirsSync(path.join(dangling, 'a')), { code: 'EEXIST', syscall: 'mkdir', path: dangling }, 'mkdir says the link is there');
    assert.deepEqual(notADirectoryAt(path.join(file, 'x', 'y')), { path: file, kind: 'file' });
    assert.deepEqual(notADirectoryAt(toFile), { path: toFile, target: file, kind: 'file' });
    assert.deepEqual(notADirectoryAt(path.join(dangling, 'a')), { path: dangling, target: '/nonexistent-kiln/dir', kind: 'missing' });
    assert.equal(notADirectoryAt(path.join(toDir, 'a', 'new', 'deeper')), undefined, 'nothing in the way: missing directories can be made');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
