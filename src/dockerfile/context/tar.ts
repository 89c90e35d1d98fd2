/**
 * A build context directory as a tar stream, as `docker build` sends one: the
 * walk of ./walk.ts (.dockerignore applied, symlinks stored, never followed),
 * files streamed one at a time (never the whole context in memory), owners
 * zeroed (COPY makes them root's anyway), modes and mtimes kept. A build
 * Job's context goes to its pod this way (src/kube/job).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Header } from 'tar-stream';
import { loadIgnore } from './ignore.js';
import { walkContext, type ContextEntry } from './walk.js';

export interface ContextTarStats {
  files: number;
  bytes: number;
}

function header(e: ContextEntry): Partial<Header> & { name: string } {
  const base = { name: e.path, mode: e.mode, uid: 0, gid: 0, mtime: new Date(Math.floor(e.mtimeMs / 1000) * 1000) };
  switch (e.type) {
    case 'dir':
      return { ...base, name: `${e.path}/`, type: 'directory' };
    case 'symlink':
      return { ...base, type: 'symlink', linkname: e.linkTarget ?? '' };
    case 'fifo':
      return { ...base, type: 'fifo' };
    default:
      return { ...base, type: 'file', size: e.size };
  }
}

/**
 * The tar of `dir` without what its .dockerignore (or `<dockerfile>.dockerignore`)
 * excludes. `stats` is filled as entries go out. Errors (a file that vanished,
 * a bad ignore pattern) end the stream with them.
 */
export function contextTar(dir: string, opts: { dockerfile?: string; stats?: ContextTarStats } = {}): Readable {
  const p = tarPack();
  const stats = opts.stats ?? { files: 0, bytes: 0 };
  (async () => {
    const { matcher } = await loadIgnore(dir, opts.dockerfile);
    for await (const e of walkContext(dir, { ignore: matcher })) {
      if (p.destroyed) return;
      const h = header(e);
      if (e.type !== 'file') {
        await new Promise<void>((resolve, reject) => p.entry(h, (err) => (err ? reject(err) : resolve())));
        continue;
      }
      stats.files++;
      stats.bytes += e.size;
      const sink = p.entry(h);
      await pipeline(createReadStream(e.absolutePath), sink);
    }
    p.finalize();
  })().catch((e: unknown) => p.destroy(e as Error));
  return p as unknown as Readable;
}
