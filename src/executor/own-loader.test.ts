/**
 * kiln's own loader and libraries (own-loader.ts): the shared objects a maps
 * text names, and this very executable started again through the copies
 * alone (--library-path: not one library from the system's directories).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { removeDir, tempDir } from '../testing/tempdir.js';
import { copyOwnLoader, mappedLibraries, shorterNames, throughLoader } from './own-loader.js';

const run = promisify(execFile);

test('mappedLibraries lists each mapped shared object once, and nothing else', () => {
  const maps = [
    '55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 123 /usr/bin/node',
    '7f0000000000-7f0000001000 r--p 00000000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f0000001000-7f0000002000 r-xp 00001000 08:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7f0000003000-7f0000004000 r--p 00000000 08:01 789 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    '7f0000005000-7f0000006000 r--p 00000000 08:01 790 /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30',
    '7f0000007000-7f0000008000 rw-p 00000000 00:00 0 [heap]',
    '7f0000009000-7f000000a000 rw-s 00000000 00:01 12 /memfd:doublemapper (deleted)',
    '7f000000b000-7f000000c000 r--p 00000000 08:01 800 /usr/share/locale/x.mo',
  ].join('\n');
  assert.deepEqual(mappedLibraries(maps), [
    '/usr/lib/x86_64-linux-gnu/libc.so.6',
    '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    '/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30',
  ]);
});

test('shorterNames: the names a soname may take', () => {
  assert.deepEqual(shorterNames('libstdc++.so.6.0.30'), ['libstdc++.so.6.0', 'libstdc++.so.6', 'libstdc++.so']);
  assert.deepEqual(shorterNames('libc.so.6'), ['libc.so']);
  assert.deepEqual(shorterNames('libfoo.so'), []);
});

test('the running executable starts again through the copied loader and libraries', async () => {
  const dir = await tempDir('kiln-own-loader-');
  try {
    const own = await copyOwnLoader(path.join(dir, 'loader'));
    assert.ok(own, 'node is a dynamic executable here');
    assert.match(path.basename(own.loader), /^ld-/);
    const copied = await readdir(own.libDir);
    assert.ok(copied.some((f) => f.startsWith('libc.so')), copied.join(' '));
    const cmd = throughLoader(own, process.execPath, ['-e', 'process.stdout.write("started " + process.versions.node)']);
    const { stdout } = await run(cmd.file, cmd.args);
    assert.equal(stdout, `started ${process.versions.node}`);
    // Every library it loaded is a copy.
    const maps = await run(cmd.file, [...cmd.args.slice(0, 3), '-e', 'process.stdout.write(require("fs").readFileSync("/proc/self/maps", "utf8"))']);
    const libs = mappedLibraries(maps.stdout);
    assert.ok(libs.length > 0);
    for (const l of libs) assert.ok(l.startsWith(own.libDir + '/'), `${l} is not one of the copies`);
  } finally {
    await removeDir(dir);
  }
});
