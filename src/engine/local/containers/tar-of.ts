/**
 * A tar of a host path, streamed, for `kiln cp`: its top entry is NAME
 * (directories recursively, symlinks as links, regular files streamed), with
 * the files' own owners when `owners` is set (docker's archive; `-a` in) and
 * root's otherwise. Sockets, fifos and devices are left out, as docker cp
 * does not make them either.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';

export interface TarOfOptions {
  /** Keep each file's uid/gid (default: 0:0). */
  owners?: boolean;
  /** Follow SRC itself when it is a symlink (`-L`, or a container's /proc/PID/root). */
  followTop?: boolean;
}

export function tarOf(src: string, name: string, opts: TarOfOptions = {}): Readable {
  const pack = tar.pack();
  const add = (h: Partial<tar.Header> & { name: string }, body?: Readable) =>
    new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (!body) return void pack.entry(h, '', done);
      body.on('error', reject).pipe(pack.entry(h, done));
    });
  const walk = async (host: string, rel: string, top: boolean): Promise<void> => {
    const st = await (top && opts.followTop ? stat(host) : lstat(host));
    const base = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: opts.owners ? st.uid : 0, gid: opts.owners ? st.gid : 0 };
    if (st.isDirectory()) {
      await add({ ...base, name: `${rel}/`, type: 'directory' }); // as docker's archive: directories end with /
      for (const e of (await readdir(host)).sort()) await walk(path.join(host, e), `${rel}/${e}`, false);
    } else if (st.isSymbolicLink()) await add({ ...base, type: 'symlink', linkname: await readlink(host) });
    else if (st.isFile()) await add({ ...base, type: 'file', size: st.size }, createReadStream(host));
  };
  walk(src, name, true).then(() => pack.finalize(), (e: unknown) => pack.destroy(e as Error));
  return pack as unknown as Readable;
}
