import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { compressLayer } from './compress.js';
import { diffDirectory, sourceDateEpochFromEnv } from './diff.js';
import { extractLayer } from './extract.js';
import { listTree } from './testing.js';

const sh = (script: string): string => execFileSync('sh', ['-ec', script]).toString();
const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'kiln-diff-'));

const makeTree = (dir: string): string =>
  sh(`mkdir -p ${dir}/etc/conf.d ${dir}/bin ${dir}/zero; cd ${dir}
      printf 'root:x:0:0\\n' > etc/passwd; chmod 0 etc/passwd; printf 'b' > etc/conf.d/b.conf; printf 'a' > etc/conf.d/a.conf
      head -c 100000 /dev/zero > bin/tool; chmod 4755 bin/tool; ln bin/tool bin/tool2; ln -s tool bin/sh; ln -s /nonexistent bin/dangling; mkfifo bin/fifo
      chown 33:44 etc/conf.d/b.conf; setfattr -n user.origin -v kiln etc/passwd`);

test('a diff is a tar GNU tar lists and extracts to the same tree', async () => {
  const dir = await tmp();
  const src = path.join(dir, 'src');
  makeTree(src);
  const tarFile = path.join(dir, 'layer.tar');
  await pipeline(diffDirectory(src, { overlay: false }), createWriteStream(tarFile));
  const listing = sh(`tar --numeric-owner -tvf ${tarFile}`).trim().split('\n').map((l) => l.replace(/ \d{4}-\d\d-\d\d \d\d:\d\d /, ' DATE ').replace(/ +/g, ' '));
  assert.deepEqual(listing, [
    'drwxr-xr-x 0/0 0 DATE bin/',
    'lrwxrwxrwx 0/0 0 DATE bin/dangling -> /nonexistent',
    'prw-r--r-- 0/0 0 DATE bin/fifo',
    'lrwxrwxrwx 0/0 0 DATE bin/sh -> tool',
    '-rwsr-xr-x 0/0 100000 DATE bin/tool',
    'hrwsr-xr-x 0/0 0 DATE bin/tool2 link to bin/tool',
    'drwxr-xr-x 0/0 0 DATE etc/',
    'drwxr-xr-x 0/0 0 DATE etc/conf.d/',
    '-rw-r--r-- 0/0 1 DATE etc/conf.d/a.conf',
    '-rw-r--r-- 33/44 1 DATE etc/conf.d/b.conf',
    '---------- 0/0 11 DATE etc/passwd',
    'drwxr-xr-x 0/0 0 DATE zero/',
  ]);
  const gnu = path.join(dir, 'gnu');
  sh(`mkdir ${gnu} && tar --xattrs --xattrs-include='user.*' -C ${gnu} -xpf ${tarFile}`);
  assert.deepEqual(await listTree(gnu), await listTree(src));
  assert.match(sh(`getfattr -n user.origin ${gnu}/etc/passwd`), /user.origin="kiln"/);
  const mine = path.join(dir, 'mine');
  await extractLayer(diffDirectory(src), mine);
  assert.deepEqual(await listTree(mine), await listTree(src));
  await rm(dir, { recursive: true });
});

test('SOURCE_DATE_EPOCH makes two diffs of the same tree byte-identical', async () => {
  const dir = await tmp();
  const digests: string[] = [];
  for (const n of [1, 2]) {
    const d = path.join(dir, `t${n}`);
    makeTree(d);
    if (n === 2) sh(`touch -d '2001-01-01' ${d}/etc/conf.d/a.conf`); // still after the epoch, so clamped too
    const { stream, result } = compressLayer(diffDirectory(d, { sourceDateEpoch: 946684800 }), 'gzip');
    await pipeline(stream, createWriteStream(path.join(dir, `l${n}.tgz`)));
    digests.push((await result).digest);
  }
  assert.equal(digests[0], digests[1]);
  const { stream, result } = compressLayer(diffDirectory(path.join(dir, 't1'), { sourceDateEpoch: 1 }), 'gzip');
  await pipeline(stream, createWriteStream(path.join(dir, 'l3.tgz')));
  assert.notEqual((await result).digest, digests[0], 'a different epoch gives a different layer');
  assert.match(sh(`tar -tvzf ${dir}/l1.tgz bin/tool`), / 2000-01-01 00:00 bin\/tool/);
  assert.equal(sourceDateEpochFromEnv({ SOURCE_DATE_EPOCH: '946684800' }), 946684800);
  assert.equal(sourceDateEpochFromEnv({}), undefined);
  assert.throws(() => sourceDateEpochFromEnv({ SOURCE_DATE_EPOCH: 'yesterday' }), /SOURCE_DATE_EPOCH="yesterday" is not a number of seconds/);
  await rm(dir, { recursive: true });
});

test('the upper dir of a real overlay mount diffs to whiteouts that rebuild the merged view', async (t) => {
  const dir = await tmp();
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((x) => path.join(dir, x)) as [string, string, string, string];
  sh(`mkdir -p ${upper} ${work} ${merged}`);
  makeTree(lower);
  sh(`mkdir -p ${lower}/var/cache/old; echo x > ${lower}/var/cache/old/f; echo y > ${lower}/var/cache/top`);
  sh(`mount -t overlay overlay -o lowerdir=${lower},upperdir=${upper},workdir=${work} ${merged}`);
  t.after(() => sh(`umount ${merged} 2>/dev/null || true; rm -rf ${dir}`));
  sh(`cd ${merged}; rm etc/passwd; rm -rf var/cache; mkdir var/cache; echo new > var/cache/new; echo more >> etc/conf.d/a.conf; rm bin/sh`);
  const want = await listTree(merged);
  sh(`umount ${merged}`);

  const tarFile = path.join(dir, 'layer.tar');
  await pipeline(diffDirectory(upper), createWriteStream(tarFile));
  const names = sh(`tar -tf ${tarFile}`).trim().split('\n');
  assert.deepEqual(names, ['bin/', 'bin/.wh.sh', 'etc/', 'etc/.wh.passwd', 'etc/conf.d/', 'etc/conf.d/a.conf', 'var/', 'var/cache/', 'var/cache/.wh..wh..opq', 'var/cache/new']);

  // lower + the layer, extracted by kiln, is the merged view the overlay showed
  const applied = path.join(dir, 'applied');
  sh(`cp -a ${lower} ${applied}`);
  await extractLayer((await import('node:fs')).createReadStream(tarFile), applied);
  assert.deepEqual(await listTree(applied), want);
});

test('dirXattrsOnly (a COPY\'s upper dir: new files, no xattrs) reads directories\' xattrs only and gives the same layer', async (t) => {
  const dir = await tmp();
  const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((x) => path.join(dir, x)) as [string, string, string, string];
  sh(`mkdir -p ${upper} ${work} ${merged} ${lower}/app ${lower}/var/cache/old; echo x > ${lower}/var/cache/old/f; setfattr -n user.kept -v lower ${lower}/app`);
  sh(`mount -t overlay overlay -o lowerdir=${lower},upperdir=${upper},workdir=${work} ${merged}`);
  t.after(() => sh(`umount ${merged} 2>/dev/null || true; rm -rf ${dir}`));
  // As a COPY: new directories and files; /app copied up (its xattr with it); var/cache replaced (opaque).
  sh(`cd ${merged}; mkdir -p app/b/d1 app/b/d2; for i in 1 2 3; do echo $i > app/b/d1/f$i; echo $i > app/b/d2/g$i; done
      chown 0:0 app; rm -rf var/cache; mkdir var/cache; echo new > var/cache/new; setfattr -n user.dir -v made app/b/d2`);
  sh(`umount ${merged}`);
  const read = async (dirXattrsOnly: boolean): Promise<Buffer> => Buffer.concat(await diffDirectory(upper, { dirXattrsOnly }).toArray());
  const [all, dirs] = [await read(false), await read(true)];
  assert.ok(dirs.equals(all), 'the same bytes as reading every file\'s xattrs');
  const tarFile = path.join(dir, 'layer.tar');
  await pipeline(diffDirectory(upper, { dirXattrsOnly: true }), createWriteStream(tarFile));
  assert.ok(sh(`tar -tf ${tarFile}`).split('\n').includes('var/cache/.wh..wh..opq'), 'the opaque directory is marked');
  const gnu = path.join(dir, 'gnu');
  sh(`mkdir ${gnu} && tar --xattrs --xattrs-include='user.*' -C ${gnu} -xpf ${tarFile}`);
  assert.match(sh(`getfattr -n user.dir ${gnu}/app/b/d2`), /user.dir="made"/);
  assert.match(sh(`getfattr -n user.kept ${gnu}/app`), /user.kept="lower"/);
});

test('file capabilities and ids beyond the ustar field survive diff and extract (and GNU tar agrees)', async () => {
  const dir = await tmp();
  const src = path.join(dir, 'src');
  // security.capability v2: cap_net_raw (bit 13) permitted+effective, binary with NUL bytes
  const cap = '0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=';
  sh(`mkdir -p ${src}/bin; cd ${src}; echo ping > bin/ping; setfattr -n security.capability -v ${cap} bin/ping
      echo far > bin/far; chown 3000000:3000001 bin/far; ln -s ${'t'.repeat(120)}é bin/longlink; setfattr -h -n user.x -v y bin/longlink 2>/dev/null || true`);
  const tarFile = path.join(dir, 'l.tar');
  await pipeline(diffDirectory(src), createWriteStream(tarFile));
  assert.match(sh(`tar --numeric-owner -tvf ${tarFile} bin/far`), /^-rw-r--r-- 3000000\/3000001 /);
  const mine = path.join(dir, 'mine');
  await extractLayer((await import('node:fs')).createReadStream(tarFile), mine);
  const gnu = path.join(dir, 'gnu');
  sh(`mkdir ${gnu}; tar --xattrs --xattrs-include='*' -C ${gnu} -xpf ${tarFile}`);
  for (const root of [mine, gnu]) {
    assert.match(sh(`getfattr -e base64 -n security.capability ${root}/bin/ping`), new RegExp(`security.capability=${cap.replace(/[+]/g, '\\+')}`), root);
    assert.deepEqual(await listTree(root), await listTree(src), root);
  }
  await rm(dir, { recursive: true });
});

test('a truncated or corrupt layer is DATA_LOSS naming the target', async () => {
  const dir = await tmp();
  const { Readable } = await import('node:stream');
  await assert.rejects(extractLayer(Readable.from([Buffer.alloc(512, 7)]), path.join(dir, 'x')), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'DATA_LOSS');
    assert.match(e.message, /^layer being extracted into .*\/x is not a valid tar: Invalid tar header/);
    return true;
  });
  await rm(dir, { recursive: true });
});

test('a file whose name is a whiteout of "", "." or ".." is refused with one line naming it, not written as a hostile layer', async () => {
  const dir = await tmp();
  for (const name of ['.wh...', '.wh..', '.wh.']) {
    const src = path.join(dir, `src${name.length}`);
    sh(`mkdir -p ${src}/d && printf x > '${src}/d/${name}' && printf y > ${src}/d/ok`);
    await assert.rejects(pipeline(diffDirectory(src), createWriteStream(path.join(dir, 'out.tar'))), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.equal(e.message, `/d/${name}: a file named "${name}" cannot be stored in a layer (in a layer, ${name === '.wh.' ? 'a whiteout with no name would remove the directory that holds it' : `a whiteout of "${name.slice(4)}" would remove a directory outside the one that holds it`})`);
      return true;
    });
  }
  await rm(dir, { recursive: true });
});
