/**
 * A store that is not this user's (the system store used without sudo): one line naming the path and what to
 * do, not Node's `EACCES: permission denied, scandir '…'`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { kilnCommand, kilnOk } from '../testing/kiln.js';
import { tempDir, removeDir } from '../testing/tempdir.js';

const NOBODY = 65534;

test("another user's store: one line with the path and what to do, exit 1 (images, ps, several names)", async () => {
  const dir = await tempDir('kiln-syserr-');
  try {
    chmodSync(dir, 0o755);
    const root = path.join(dir, 'root');
    await kilnOk(['images'], { root }); // made by root, mode 0711: others pass through but cannot list it
    const asNobody = (args: string[]) => {
      const cmd = kilnCommand(['--root', root, ...args]);
      const r = spawnSync(path.resolve(cmd.file), cmd.args, { uid: NOBODY, gid: NOBODY, cwd: dir, encoding: 'utf8', env: { ...process.env, HOME: dir } });
      return [r.status, r.stdout, r.stderr];
    };
    const hint = `the kiln store ${root} is not this user's: run kiln as its owner (sudo kiln …), or pass --root DIR for a store of your own`;
    assert.deepEqual(asNobody(['images']), [1, '', `kiln: cannot list ${root}: permission denied (${hint})\n`]);
    assert.deepEqual(asNobody(['ps', '-a']), [1, '', `kiln: cannot list ${path.join(root, 'containers')}: permission denied (${hint})\n`]);
    const rm = asNobody(['rm', 'a', 'b']);
    assert.equal(rm[0], 1);
    assert.match(String(rm[2]), new RegExp(`^kiln: cannot \\w+ ${root.replace(/[.]/g, '\\.')}\\S*: permission denied \\(the kiln store `));
  } finally {
    await removeDir(dir);
  }
});

test('a store root that cannot be created (under /proc): one line at once naming it and what to do, exit 1', async () => {
  const dir = await tempDir('kiln-syserr-');
  try {
    const run = (root: string, args: string[]) => {
      const cmd = kilnCommand(['--root', root, ...args]);
      const t0 = Date.now();
      // Node's recursive mkdir spun here for ever: the timeout turns a regression into a failure, not a hang
      const r = spawnSync(path.resolve(cmd.file), cmd.args, { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, HOME: dir } });
      assert.ok(Date.now() - t0 < 20_000, `kiln ${args.join(' ')} with --root ${root} did not end`);
      return [r.status, r.stderr];
    };
    const hint = 'pass --root DIR naming a directory on a writable file system, or set KILN_ROOT to one';
    const none = '/proc/kiln-none';
    assert.deepEqual(run(none, ['images']), [1, `kiln: cannot create the kiln store ${none}: the file system refuses new directories there (${hint})\n`]);
    assert.deepEqual(run(none, ['ps', '-a']), [1, `kiln: cannot create the kiln store ${none}: the file system refuses new directories there (${hint})\n`]);
    assert.deepEqual(run(`${none}/store`, ['--backend', 'local', 'images']), [
      1,
      `kiln: cannot create the kiln store ${none}/store: the file system refuses to create ${none} (${hint})\n`,
    ]);
  } finally {
    await removeDir(dir);
  }
});

test('a store path that cannot be a directory: one line naming what is in the way (a file above it or at it, a link to a file, a dangling link) or mkdir\'s refusal, the same for images and ps', async () => {
  const dir = await tempDir('kiln-syserr-');
  try {
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'file');
    writeFileSync(file, '');
    symlinkSync(file, path.join(dir, 'to-file'));
    symlinkSync('/nonexistent-kiln/store', path.join(dir, 'dangling'));
    mkdirSync(path.join(dir, 'locked'), { mode: 0o755 }); // root's: nobody may not create in it
    const run = (root: string, args: string[], uid?: number) => {
      const cmd = kilnCommand(['--root', root, ...args]);
      const r = spawnSync(path.resolve(cmd.file), cmd.args, { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, HOME: dir }, ...(uid === undefined ? {} : { uid, gid: uid }) });
      return [r.status, r.stderr];
    };
    const aDir = 'pass --root DIR naming a directory, or a new path under one';
    const cases: [string, string, number?][] = [
      [`${file}/x`, `cannot use ${file}/x as the kiln store: ${file} is a file, not a directory (${aDir})`],
      [`${file}/x/y`, `cannot use ${file}/x/y as the kiln store: ${file} is a file, not a directory (${aDir})`],
      [file, `cannot use ${file} as the kiln store: it is a file, not a directory (${aDir})`],
      [`${dir}/to-file`, `cannot use ${dir}/to-file as the kiln store: it is a symbolic link to the file ${file}, not a directory (${aDir})`],
      [`${dir}/dangling`, `cannot use ${dir}/dangling as the kiln store: it is a symbolic link to /nonexistent-kiln/store, which does not exist (create /nonexistent-kiln/store, or pass --root DIR naming a directory)`],
      [`${dir}/locked/a/b`, `cannot create the kiln store ${dir}/locked/a/b: mkdir ${dir}/locked/a: permission denied (pass --root DIR under a directory of yours, or run kiln as a user who may write there)`, NOBODY],
    ];
    for (const [root, line, uid] of cases) {
      for (const args of [['images'], ['ps', '-a']]) assert.deepEqual(run(root, args, uid), [1, `kiln: ${line}\n`], `${args[0]} --root ${root}`);
    }
    assert.equal(readlinkSync(path.join(dir, 'dangling')), '/nonexistent-kiln/store', 'the link left as it was');
    assert.deepEqual(readdirSync(path.join(dir, 'locked')), [], 'nothing made');
  } finally {
    await removeDir(dir);
  }
});

test('a store root on a read-only file system, new or an empty directory there: one line naming the store and what to do, exit 1 (not ENOENT)', async () => {
  const dir = await tempDir('kiln-syserr-');
  try {
    const ro = path.join(dir, 'ro');
    mkdirSync(ro);
    // a read-only tmpfs in a mount namespace of the test's own
    const run = (root: string) => {
      const cmd = kilnCommand(['--root', root, 'images']);
      const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"', 'sh', ro, path.resolve(cmd.file), ...cmd.args], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, HOME: dir },
      });
      return [r.status, r.stderr];
    };
    assert.deepEqual(run(`${ro}/s`), [1, `kiln: cannot create the kiln store ${ro}/s: mkdir ${ro}/s: read-only file system (pass --root DIR naming a directory on a writable file system, or set KILN_ROOT to one)\n`]);
    assert.deepEqual(run(ro), [1, `kiln: kiln store ${ro} is not writable: cannot write ${ro} (EROFS) (run as a user who may write the store, or pass --root DIR to use another store)\n`]);
  } finally {
    await removeDir(dir);
  }
});
