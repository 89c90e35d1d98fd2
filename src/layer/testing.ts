/** Test helpers for layer code: tars built in memory, tree listings to compare. */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack, type Header } from 'tar-stream';

export type TarSpec = Array<Partial<Header> & { name: string; body?: string | Buffer; pax?: Record<string, string> }>;

/** A tar stream with the given entries (tar-stream's pack). */
export function makeTar(entries: TarSpec): Readable {
  const p = pack();
  for (const { body, ...h } of entries) {
    const header = { mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date(1_600_000_000_000), ...h } as Header;
    p.entry(header, body ?? '');
  }
  p.finalize();
  return p as unknown as Readable;
}

/** A tar entry as tar-stream reads it, its body as a digest. */
export type TarEntry = { name: string; type: string; size: number; mode: number; uid: number; gid: number; linkname: string | null; sha: string; pax?: Record<string, string> };
/** The entries of a tar held in memory (small test tars). */
export async function tarEntries(tar: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, body, next) => {
      const parts: Buffer[] = [];
      body.on('data', (c: unknown) => void parts.push(c as Buffer));
      body.on('end', () => {
        const p = (h as { pax?: Record<string, string> }).pax;
        out.push({ name: h.name, type: h.type!, size: h.size!, mode: h.mode!, uid: h.uid!, gid: h.gid!, linkname: h.linkname ?? null, sha: `sha256:${createHash('sha256').update(Buffer.concat(parts)).digest('hex')}`, ...(p ? { pax: p } : {}) });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(tar);
  await done;
  return out;
}

/**
 * One line per entry under `root`, sorted: `path type mode uid:gid mtime size sha256|->target`,
 * with `#ino` groups for hardlinks. `mtimes: false` leaves directory mtimes out.
 */
export async function listTree(root: string, opts: { dirMtimes?: boolean } = {}): Promise<string[]> {
  const lines: string[] = [];
  const inodes = new Map<number, string>();
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(path.join(root, rel))).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const p = path.join(root, r);
      const st = await lstat(p);
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : 'b';
      let extra = '';
      if (type === 'f') extra = createHash('sha256').update(await readFile(p)).digest('hex').slice(0, 12);
      if (type === 'l') extra = `->${await readlink(p)}`;
      if (type === 'f' && st.nlink > 1) {
        if (!inodes.has(st.ino)) inodes.set(st.ino, r);
        extra += ` #${inodes.get(st.ino)}`;
      }
      const mtime = type === 'd' && opts.dirMtimes === false ? '-' : Math.floor(st.mtimeMs / 1000);
      const mode = type === 'l' ? '' : (st.mode & 0o7777).toString(8);
      lines.push(`${r} ${type} ${mode} ${st.uid}:${st.gid} ${mtime} ${type === 'f' ? st.size : 0} ${extra}`.trim());
      if (type === 'd') await walk(r);
    }
  };
  await walk('');
  return lines;
}
