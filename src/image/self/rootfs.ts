/**
 * kiln's image as a root filesystem tarball, streamed file by file from the
 * host (never held in memory): the directories the files need, /tmp (1777),
 * /etc, and the files themselves, owned by root, with a fixed mtime so the
 * same inputs make the same layer. The changes give it kiln's entrypoint,
 * PATH and version label.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { ImageFile } from './files.js';

/** Every file's and directory's mtime: the same inputs give the same layer digest. */
const MTIME = new Date(0);
const EXTRA_DIRS: [string, number][] = [
  ['/etc', 0o755],
  ['/tmp', 0o1777],
  ['/var/lib/kiln', 0o755],
];

/** The image's config changes (Dockerfile instructions, as `kiln import --change` takes them). */
export function imageChanges(version: string): string[] {
  return [
    'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENTRYPOINT ["/usr/local/bin/kiln"]',
    `LABEL org.opencontainers.image.title=kiln org.opencontainers.image.version=${JSON.stringify(version)}`,
  ];
}

/** The tarball of `files` (plain tar); an error reading a file ends the stream with it. */
export function rootfsTar(files: ImageFile[]): Readable {
  const pack = tar.pack();
  const dirs = new Map<string, number>(EXTRA_DIRS);
  for (const f of files) {
    for (let d = path.posix.dirname(f.path); d !== '/' && !dirs.has(d); d = path.posix.dirname(d)) dirs.set(d, 0o755);
  }
  const write = async () => {
    for (const [d, mode] of [...dirs].sort(([a], [b]) => (a < b ? -1 : 1))) {
      pack.entry({ name: `${d.slice(1)}/`, type: 'directory', mode, mtime: MTIME, uid: 0, gid: 0 });
    }
    for (const f of files) {
      const entry = pack.entry({ name: f.path.slice(1), type: 'file', size: f.size, mode: f.mode, mtime: MTIME, uid: 0, gid: 0 });
      await pipeline(createReadStream(f.source), entry);
    }
    pack.finalize();
  };
  const out = new PassThrough();
  write().catch((e: Error) => pack.destroy(e));
  pipeline(pack, out).catch((e: Error) => out.destroy(e));
  return out;
}
