import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extractLayer } from './extract.js';
import { listTree, makeTar, type TarSpec } from './testing.js';

async function tmp(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'kiln-extract-'));
}
const T = new Date(1_600_000_000_000);

test('extracts files, dirs, symlinks, hardlinks, fifos with modes, owners, mtimes and xattrs', async () => {
  const dir = await tmp();
  const root = path.join(dir, 'root');
  const spec: TarSpec = [
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 5, gid: 6 },
    { name: 'etc/conf', body: 'hello\n', mode: 0o640, uid: 1000, gid: 1001, pax: { 'SCHILY.xattr.user.kiln': 'yes' } },
    { name: 'bin/tool', body: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'bin/alias', type: 'link', linkname: 'bin/tool' },
    { name: 'bin/sym', type: 'symlink', linkname: '../etc/conf' },
    { name: './run/pipe', type: 'fifo', mode: 0o600 },
    { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
  ];
  const r = await extractLayer(makeTar(spec), root);
  assert.deepEqual(r, { entries: 7, bytes: 16, whiteouts: 0, skipped: ['dev/null'] });
  assert.deepEqual(await listTree(root, { dirMtimes: false }), [
    'bin d 755 0:0 - 0',
    'bin/alias f 4755 0:0 1600000000 10 a8076d3d28d2 #bin/alias',
    'bin/sym l  0:0 1600000000 0 ->../etc/conf',
    'bin/tool f 4755 0:0 1600000000 10 a8076d3d28d2 #bin/alias',
    'dev d 755 0:0 - 0',
    'etc d 750 5:6 - 0',
    'etc/conf f 640 1000:1001 1600000000 6 5891b5b522d5',
    'run d 755 0:0 - 0',
    'run/pipe p 600 0:0 1600000000 0',
  ]);
  assert.equal((await lstat(path.join(root, 'etc'))).mtimeMs, T.getTime(), 'directory mtime set after its children');
  assert.match(execFileSync('getfattr', ['-n', 'user.kiln', path.join(root, 'etc/conf')]).toString(), /user.kiln="yes"/);
  const withDev = path.join(dir, 'dev');
  await extractLayer(makeTar(spec), withDev, { allowDevices: true });
  const st = await lstat(path.join(withDev, 'dev/null'));
  assert.ok(st.isCharacterDevice());
  assert.equal(st.rdev, 259); // makedev(1, 3)
  await rm(dir, { recursive: true });
});

test('whiteouts remove lower entries; opaque whiteouts empty a directory; same-layer entries stay', async () => {
  const root = await tmp();
  await extractLayer(
    makeTar([
      { name: 'a', body: 'a' },
      { name: 'keep', body: 'k' },
      { name: 'd/old1', body: '1' },
      { name: 'd/sub/old2', body: '2' },
      { name: 'gone/x', body: 'x' },
    ]),
    root,
  );
  const r = await extractLayer(
    makeTar([
      { name: '.wh.a' },
      { name: '.wh.gone' },
      { name: 'd/', type: 'directory' },
      { name: 'd/+new', body: 'n' }, // sorts before the opaque marker: must survive it
      { name: 'd/.wh..wh..opq' },
      { name: 'd/newer', body: 'n2' },
      { name: 'fresh', body: 'f' },
      { name: '.wh.fresh' }, // a whiteout only hides lower layers
      { name: '.wh..wh.plnk' }, // AUFS metadata: ignored
    ]),
    root,
  );
  assert.equal(r.whiteouts, 5);
  assert.deepEqual((await readdir(root)).sort(), ['d', 'fresh', 'keep']);
  assert.deepEqual((await readdir(path.join(root, 'd'))).sort(), ['+new', 'newer']);
  await rm(root, { recursive: true });
});

test('a later entry replaces what is there (file over dir, dir over symlink)', async () => {
  const root = await tmp();
  await extractLayer(makeTar([{ name: 'x/y', body: 'y' }, { name: 'l', type: 'symlink', linkname: 'x' }]), root);
  await extractLayer(makeTar([{ name: 'x', body: 'now a file' }, { name: 'l/', type: 'directory' }, { name: 'l/in', body: 'i' }]), root);
  assert.equal(await readFile(path.join(root, 'x'), 'utf8'), 'now a file');
  assert.ok((await lstat(path.join(root, 'l'))).isDirectory());
  assert.equal(await readFile(path.join(root, 'l/in'), 'utf8'), 'i');
  await rm(root, { recursive: true });
});

test('hostile tars never write outside the root', async () => {
  const dir = await tmp();
  const outside = path.join(dir, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'victim'), 'original');
  const root = path.join(dir, 'root');
  const fresh = async (): Promise<void> => {
    await rm(root, { recursive: true, force: true });
    await mkdir(root);
  };

  // ".." climbing out: rejected, naming the entry
  await fresh();
  await assert.rejects(extractLayer(makeTar([{ name: '../outside/victim', body: 'pwned' }]), root), /tar entry "..\/outside\/victim": path escapes the root directory/);
  await assert.rejects(extractLayer(makeTar([{ name: 'a/../../outside/victim', body: 'pwned' }]), root), /path escapes the root/);

  // absolute names land inside the root
  await fresh();
  await extractLayer(makeTar([{ name: `${outside}/victim`, body: 'pwned' }]), root);
  assert.equal(await readFile(path.join(root, outside, 'victim'), 'utf8'), 'pwned');

  // a symlinked parent pointing outside (absolute or relative) is resolved inside the root
  await fresh();
  await extractLayer(
    makeTar([
      { name: 'abs', type: 'symlink', linkname: outside },
      { name: 'abs/victim', body: 'pwned' },
      { name: 'rel', type: 'symlink', linkname: '../../../../../../../..' + outside },
      { name: 'rel/victim2', body: 'pwned' },
    ]),
    root,
  );
  assert.equal(await readFile(path.join(root, outside, 'victim'), 'utf8'), 'pwned');
  assert.equal(await readFile(path.join(root, outside, 'victim2'), 'utf8'), 'pwned');

  // a symlink already in the tree (from a lower layer), then a later layer writes through it
  await fresh();
  await symlink(outside, path.join(root, 'lower'));
  await symlink(path.join(outside, 'victim'), path.join(root, 'file'));
  await extractLayer(makeTar([{ name: 'lower/victim', body: 'pwned' }, { name: 'file', body: 'replaced the link' }, { name: 'lower/.wh.victim' }]), root);
  assert.equal(await readFile(path.join(root, 'file'), 'utf8'), 'replaced the link');
  assert.ok((await lstat(path.join(root, outside))).isDirectory());

  // whiteouts through a symlink pointing outside delete only inside
  await fresh();
  await symlink(outside, path.join(root, 'wl'));
  await extractLayer(makeTar([{ name: 'wl/.wh.victim' }, { name: 'wl/.wh..wh..opq' }]), root);

  // hardlinks to targets outside: rejected
  await fresh();
  await assert.rejects(extractLayer(makeTar([{ name: 'h', type: 'link', linkname: '../outside/victim' }]), root), /hardlink target "..\/outside\/victim": path escapes the root/);
  await assert.rejects(
    extractLayer(makeTar([{ name: 'l', type: 'symlink', linkname: outside }, { name: 'h', type: 'link', linkname: 'l/victim' }]), root),
    /tar entry "h": hardlink target "l\/victim" does not exist/,
  );
  await assert.rejects(extractLayer(makeTar([{ name: 'e', type: 'link', linkname: outside + '/victim' }]), root), /does not exist in the layer or below/);
  // a file under a path that is a regular file
  await fresh();
  await assert.rejects(extractLayer(makeTar([{ name: 'f', body: 'x' }, { name: 'f/g', body: 'y' }]), root), /"f" in .* is not a directory/);

  assert.equal(await readFile(path.join(outside, 'victim'), 'utf8'), 'original', 'the file outside is untouched');
  assert.deepEqual(await readdir(outside), ['victim']);
  assert.equal(await readlink(path.join(dir, 'root', 'f')).catch((e: NodeJS.ErrnoException) => e.code), 'EINVAL');
  await rm(dir, { recursive: true });
});

test('a tree archived by GNU tar extracts to the same tree', async () => {
  const dir = await tmp();
  const src = path.join(dir, 'src');
  execFileSync('sh', [
    '-c',
    `set -e; mkdir -p ${src}/a/b ${src}/empty; cd ${src}; printf 'hello' > a/f; head -c 300000 /dev/urandom > a/b/big; ln a/f a/hard;
     ln -s b/big a/sym; mkfifo a/fifo; chmod 0604 a/f; chmod 1777 empty; chown 123:456 a/b/big; touch -d @1500000000 a/f a/b/big;
     long=$(printf 'n%.0s' $(seq 1 150)); echo x > "a/$long"; echo u > "a/ünï cødé";
     setfattr -n user.note -v 'some text' a/b/big`,
  ]);
  const tarFile = path.join(dir, 'gnu.tar');
  execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '--format=pax', '-C', src, '-cf', tarFile, '.']);
  const dest = path.join(dir, 'dest');
  await extractLayer(createReadStream(tarFile), dest);
  assert.deepEqual(await listTree(dest, { dirMtimes: true }), await listTree(src, { dirMtimes: true }));
  assert.match(execFileSync('getfattr', ['-n', 'user.note', path.join(dest, 'a/b/big')]).toString(), /user.note="some text"/);
  await rm(dir, { recursive: true });
});

test('whiteouts that name "", "." or ".." are refused in layers (apply and overlay); nothing outside the root or the root itself is removed', async () => {
  const dir = await tmp();
  const root = path.join(dir, 'a', 'root');
  await mkdir(path.join(root, 'sub'), { recursive: true });
  await writeFile(path.join(dir, 'a', 'sibling'), 'keep');
  await writeFile(path.join(root, 'sub', 'f'), 'keep');
  for (const mode of ['apply', 'overlay'] as const) {
    for (const name of ['.wh...', '.wh..', '.wh.', 'sub/.wh...', 'sub/.wh.', '.wh./x', 'sub/.wh../x']) {
      await assert.rejects(extractLayer(makeTar([{ name, body: '' }]), root, { whiteouts: mode }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_ARGUMENT', `${mode} ${name}`);
        assert.match(e.message, new RegExp(`^tar entry "${name.replace(/\./g, '\\.')}": a whiteout .*would remove`), `${mode} ${name}`);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
    }
  }
  assert.equal(await readFile(path.join(dir, 'a', 'sibling'), 'utf8'), 'keep');
  assert.equal(await readFile(path.join(root, 'sub', 'f'), 'utf8'), 'keep');
  await rm(dir, { recursive: true });
});

test('whiteouts: none (a build context, an ADDed archive): .wh. names are ordinary files', async () => {
  const dir = await tmp();
  const root = path.join(dir, 'a', 'root');
  await mkdir(root, { recursive: true });
  await writeFile(path.join(dir, 'a', 'sibling'), 'keep');
  await writeFile(path.join(root, 'lower'), 'keep');
  const r = await extractLayer(
    makeTar([
      { name: '.wh...', body: 'dots' },
      { name: '.wh..', body: 'dot' },
      { name: '.wh.lower', body: 'not a whiteout' },
      { name: '.wh./x', body: 'x' },
      { name: 'd/.wh..wh..opq', body: 'opq' },
    ]),
    root,
    { whiteouts: 'none' },
  );
  assert.equal(r.whiteouts, 0);
  assert.equal(await readFile(path.join(dir, 'a', 'sibling'), 'utf8'), 'keep');
  assert.equal(await readFile(path.join(root, 'lower'), 'utf8'), 'keep');
  assert.equal(await readFile(path.join(root, '.wh...'), 'utf8'), 'dots');
  assert.equal(await readFile(path.join(root, '.wh..'), 'utf8'), 'dot');
  assert.equal(await readFile(path.join(root, '.wh.lower'), 'utf8'), 'not a whiteout');
  assert.equal(await readFile(path.join(root, '.wh.', 'x'), 'utf8'), 'x');
  assert.equal(await readFile(path.join(root, 'd', '.wh..wh..opq'), 'utf8'), 'opq');
  await rm(dir, { recursive: true });
});
