import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { extract } from 'tar-stream';
import { removeDir, tempDir } from '../../testing/tempdir.js';
import { contextTar } from './tar.js';

test('contextTar: what .dockerignore leaves, symlinks as links, contents streamed, owners zeroed', async () => {
  const dir = await tempDir('kiln-context-tar-');
  try {
    await mkdir(path.join(dir, 'src'));
    await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
    await writeFile(path.join(dir, 'src', 'main.txt'), 'main\n');
    await writeFile(path.join(dir, 'secret.env'), 'TOKEN=x\n');
    await writeFile(path.join(dir, '.dockerignore'), '*.env\n');
    await symlink('/etc/passwd', path.join(dir, 'link'));
    const stats = { files: 0, bytes: 0 };
    const seen: Record<string, string> = {};
    const x = extract();
    x.on('entry', (h, stream, next) => {
      let body = '';
      stream.on('data', (c: unknown) => (body += String(c)));
      stream.on('end', () => {
        seen[h.name] = `${h.type} ${h.uid}:${h.gid} ${h.type === 'symlink' ? h.linkname : body}`;
        next();
      });
    });
    const done = new Promise<void>((resolve, reject) => (x.on('finish', () => resolve()), x.on('error', reject)));
    contextTar(dir, { stats }).pipe(x);
    await done;
    assert.deepEqual(seen, {
      '.dockerignore': 'file 0:0 *.env\n',
      Dockerfile: 'file 0:0 FROM scratch\n',
      link: 'symlink 0:0 /etc/passwd',
      'src/': 'directory 0:0 ',
      'src/main.txt': 'file 0:0 main\n',
    });
    assert.deepEqual(stats, { files: 3, bytes: 13 + 5 + 6 });
  } finally {
    await removeDir(dir);
  }
});
