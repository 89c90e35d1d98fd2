/**
 * `kiln cp` with docker's `-` (a tar on standard output or input), `-a`
 * (keep uid/gid) and `-L` (follow a symlink in SRC). The tar listings and the
 * messages are what Debian's docker 20.10.24 printed for the same container
 * (entries named after the copied path, `./` for DIR/., the container's
 * owners, a link as a link, -L the target under its own name). Owners follow
 * docker's documentation (root's on the receiving side; -a the source's):
 * docker 20.10 itself kept the host's owners copying in even without -a, and
 * ignored -a copying out.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar-stream';
import { containerFixture, IMAGE, until, type ContainerFixture } from '../testing/container-fixture.js';

let fx: ContainerFixture;
before(async () => {
  fx = await containerFixture();
  const script = 'mkdir -p /tmp/d/e; echo x > /tmp/d/e/g; chown 1000:1001 /tmp/d/e/g; ln -s /etc/hostname /tmp/d/link; ln -s /tmp/d/e/g /tmp/flink; touch /tmp/ready; sleep 300';
  await fx.ok(['run', '-d', '--name', 'box', '--network', 'none', IMAGE, 'sh', '-c', script]);
  await until('the container to make its files', async () => (await fx.k(['exec', 'box', 'test', '-e', '/tmp/ready'])).code === 0);
});
after(() => fx.cleanup());

/** `tar -tv --numeric-owner` of a tar, as "TYPE UID/GID NAME[ -> LINK]" lines. */
const listing = (bytes: Buffer): string[] =>
  execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], { input: bytes, encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(/\s+/);
      return `${f[0]![0]} ${f[1]} ${f.slice(5).join(' ')}`;
    });

const tarOf = async (entries: (Partial<tar.Header> & { name: string; body?: string })[]): Promise<Buffer> => {
  const pack = tar.pack();
  for (const { body, ...h } of entries) pack.entry(h, body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

test('cp CONTAINER:PATH - writes docker\'s tar to stdout (entries named after PATH, the container\'s owners, links as links; -L the target), nothing on stderr', async () => {
  const dir = await fx.ok(['cp', 'box:/tmp/d', '-']);
  assert.equal(dir.stderr, '');
  assert.deepEqual(listing(Buffer.from(dir.stdout)), ['d 0/0 d/', 'd 0/0 d/e/', '- 1000/1001 d/e/g', 'l 0/0 d/link -> /etc/hostname']);
  assert.deepEqual(listing(Buffer.from((await fx.ok(['cp', 'box:/tmp/d/.', '-'])).stdout)), ['d 0/0 ./', 'd 0/0 ./e/', '- 1000/1001 ./e/g', 'l 0/0 ./link -> /etc/hostname']);
  assert.deepEqual(listing(Buffer.from((await fx.ok(['cp', 'box:/tmp/flink', '-'])).stdout)), ['l 0/0 flink -> /tmp/d/e/g']);
  const followed = Buffer.from((await fx.ok(['cp', '-L', 'box:/tmp/flink', '-'])).stdout);
  assert.deepEqual(listing(followed), ['- 1000/1001 g']);
  assert.equal(execFileSync('tar', ['-xOf', '-', 'g'], { input: followed, encoding: 'utf8' }), 'x\n');
});

test('cp -a keeps uid/gid both ways (default: root\'s); -L copies what a link names under the link\'s name', async () => {
  const out = path.join(fx.root, 'cp-flags');
  await mkdir(out);
  await fx.ok(['cp', 'box:/tmp/d', path.join(out, 'plain')]);
  await fx.ok(['cp', '-a', 'box:/tmp/d', path.join(out, 'archived')]);
  const owner = async (p: string) => {
    const st = await lstat(p);
    return `${st.uid}:${st.gid}`;
  };
  assert.equal(await owner(path.join(out, 'plain', 'e', 'g')), '0:0');
  assert.equal(await owner(path.join(out, 'archived', 'e', 'g')), '1000:1001');
  await fx.ok(['cp', '-q', 'box:/tmp/flink', out]);
  assert.equal(await readlink(path.join(out, 'flink')), '/tmp/d/e/g');
  const followedDir = path.join(out, 'followed');
  await mkdir(followedDir);
  await fx.ok(['cp', '-q', '-L', 'box:/tmp/flink', followedDir]);
  assert.ok((await lstat(path.join(followedDir, 'flink'))).isFile(), 'named as the link, holding the file');
  assert.equal(await readFile(path.join(followedDir, 'flink'), 'utf8'), 'x\n');

  // In: a host file owned by 1234:1235 keeps it with -a; a host link with -L arrives as the file it names, under the link's name.
  const file = path.join(out, 'owned.txt');
  await writeFile(file, 'owned\n');
  await chown(file, 1234, 1235);
  await fx.ok(['cp', '-q', file, 'box:/tmp/']);
  assert.equal((await fx.ok(['exec', 'box', 'stat', '-c', '%u:%g', '/tmp/owned.txt'])).stdout, '0:0\n');
  await fx.ok(['cp', '-q', '-a', file, 'box:/tmp/kept.txt']);
  assert.equal((await fx.ok(['exec', 'box', 'stat', '-c', '%u:%g', '/tmp/kept.txt'])).stdout, '1234:1235\n');
  await symlink(file, path.join(out, 'hostlink'));
  await fx.ok(['cp', '-q', path.join(out, 'hostlink'), 'box:/tmp/']);
  assert.equal((await fx.ok(['exec', 'box', 'readlink', '/tmp/hostlink'])).stdout, `${file}\n`);
  await fx.ok(['exec', 'box', 'rm', '/tmp/hostlink']);
  await fx.ok(['cp', '-q', '-L', path.join(out, 'hostlink'), 'box:/tmp/']);
  assert.equal((await fx.ok(['exec', 'box', 'sh', '-c', 'test -L /tmp/hostlink || cat /tmp/hostlink'])).stdout, 'owned\n');
  assert.ok((await stat(file)).isFile());
});

test('cp - CONTAINER:DIR extracts a tar from stdin into DIR (-a keeps the tar\'s owners); a file as DIR, a missing DIR and a hostile entry are one line, nothing written', async () => {
  const good = await tarOf([
    { name: 'in', type: 'directory', mode: 0o755, uid: 1234, gid: 1235 },
    { name: 'in/f', type: 'file', mode: 0o640, uid: 1234, gid: 1235, body: 'from stdin\n' },
  ]);
  const r = await fx.ok(['cp', '-', 'box:/tmp'], good as unknown as string);
  assert.equal(r.stderr, 'Successfully copied 11B to box:/tmp\n');
  assert.equal((await fx.ok(['exec', 'box', 'stat', '-c', '%u:%g %a %n', '/tmp/in/f'])).stdout, '0:0 640 /tmp/in/f\n');
  assert.equal((await fx.ok(['exec', 'box', 'cat', '/tmp/in/f'])).stdout, 'from stdin\n');
  await fx.ok(['cp', '-q', '-a', '-', 'box:/root'], good as unknown as string);
  assert.equal((await fx.ok(['exec', 'box', 'stat', '-c', '%u:%g', '/root/in/f'])).stdout, '1234:1235\n');

  const notDir = await fx.k(['cp', '-', 'box:/tmp/d/e/g'], good as unknown as string);
  assert.deepEqual([notDir.code, notDir.stderr], [1, 'kiln: destination "box:/tmp/d/e/g" must be a directory (a tar on standard input is extracted into an existing directory)\n']);
  const missing = await fx.k(['cp', '-', 'box:/nope'], good as unknown as string);
  assert.deepEqual([missing.code, missing.stderr], [1, 'kiln: destination "box:/nope" must be a directory (a tar on standard input is extracted into an existing directory)\n']);
  const hostile = await tarOf([{ name: '../../../etc/evil', type: 'file', mode: 0o644, body: 'evil\n' }]);
  const refused = await fx.k(['cp', '-', 'box:/tmp/d'], hostile as unknown as string);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^kiln: tar entry "\.\.\/\.\.\/\.\.\/etc\/evil": path escapes the root directory through "\.\."/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
  assert.equal((await fx.k(['exec', 'box', 'test', '-e', '/etc/evil'])).code, 1);
  await assert.rejects(readFile('/etc/evil'));
  // Both sides -: one line.
  const both = await fx.k(['cp', '-', '-']);
  assert.equal(both.code, 1);
  assert.equal(both.stderr.trim().split('\n').length, 1);
});
