/**
 * What kiln's image holds, read off real host binaries: ldd's libraries (the
 * dynamic loader included) for a dynamic executable, none for a static one,
 * and the image's file list from this node binary: kiln at
 * /usr/local/bin/kiln, runc, mount, every library each needs, no setuid bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpath, stat } from 'node:fs/promises';
import * as tar from 'tar-stream';
import { imageContents, sharedLibraries } from './files.js';
import { imageChanges, rootfsTar } from './rootfs.js';

test('ldd: a dynamic executable needs libc and the loader; a static one needs nothing', async () => {
  const libs = await sharedLibraries('/usr/sbin/runc');
  assert.ok(libs.some((l) => /\/libc\.so\.6$/.test(l)), libs.join(' '));
  assert.ok(libs.some((l) => /\/ld-linux[^/]*\.so\.\d$/.test(l)), libs.join(' '));
  assert.ok(libs.some((l) => /\/libseccomp\.so\.\d$/.test(l)), libs.join(' '));
  assert.deepEqual(await sharedLibraries('/usr/bin/tini-static'), []);
});

test('the image files: the executable, the tools, their libraries at the paths ldd names, no setuid', async () => {
  const { files } = await imageContents(process.execPath);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const kiln = byPath.get('/usr/local/bin/kiln')!;
  assert.equal(kiln.source, await realpath(process.execPath));
  assert.equal(kiln.size, (await stat(process.execPath)).size);
  for (const p of ['/usr/sbin/runc', '/usr/bin/mount', '/usr/bin/umount']) assert.ok(byPath.has(p), `${p} is in the image`);
  for (const bin of [process.execPath, '/usr/sbin/runc', '/usr/bin/mount']) {
    for (const lib of await sharedLibraries(bin)) assert.ok(byPath.has(lib), `${lib} (for ${bin}) is in the image`);
  }
  assert.equal(byPath.get('/usr/bin/mount')!.mode & 0o7000, 0, 'mount is not setuid in the image');
  assert.deepEqual(files.map((f) => f.path), [...byPath.keys()].sort());
});

test('the rootfs tarball: parent directories first, /tmp sticky, files byte for byte, mtime 0', async () => {
  const files = [{ path: '/usr/sbin/runc', source: '/usr/sbin/runc', size: (await stat('/usr/sbin/runc')).size, mode: 0o755 }];
  const seen: { name: string; type: string; mode: number; size: number; mtime: number }[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, body, next) => {
      let size = 0;
      body.on('data', (c: unknown) => (size += (c as Buffer).length));
      body.on('end', () => {
        seen.push({ name: h.name, type: h.type!, mode: h.mode!, size, mtime: h.mtime!.getTime() });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  rootfsTar(files).pipe(extract);
  await done;
  assert.deepEqual(
    seen.map((e) => `${e.type} ${e.name} ${e.mode.toString(8)}`),
    ['directory etc/ 755', 'directory tmp/ 1777', 'directory usr/ 755', 'directory usr/sbin/ 755', 'directory var/ 755', 'directory var/lib/ 755', 'directory var/lib/kiln/ 755', 'file usr/sbin/runc 755'],
  );
  assert.equal(seen.at(-1)!.size, files[0]!.size);
  assert.ok(seen.every((e) => e.mtime === 0));
  assert.deepEqual(imageChanges('1.2.3'), [
    'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENTRYPOINT ["/usr/local/bin/kiln"]',
    'LABEL org.opencontainers.image.title=kiln org.opencontainers.image.version="1.2.3"',
  ]);
});
