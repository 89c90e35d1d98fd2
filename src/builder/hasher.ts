/**
 * Content hashes of COPY/ADD sources for cache keys, with a stat-keyed
 * memo (size, mtime, ctime, inode) persisted per context so an unchanged
 * file is never read twice. Owners and times are not part of the hash
 * (a COPY resets owners); modes, types, names, link targets and bytes are.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, type Stats } from 'node:fs';
import { mkdir, readFile, rename, writeFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { isErrno } from '../errors.js';
import { sha256Digest } from '../oci/digest.js';
import { matchSources, walkMatch, type SourceRoot } from './sources.js';

type Memo = Record<string, [string, string]>; // abs → [stat signature, digest]

const signature = (st: Stats): string => `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`;

export class SourceHasher {
  private memo: Memo = {};
  private dirty = false;
  private readonly file?: string;

  constructor(cacheDir: string | undefined, contextDir: string) {
    if (cacheDir) this.file = path.join(cacheDir, 'buildcache', 'stat', sha256Digest(contextDir).slice(7, 39) + '.json');
  }

  async load(): Promise<void> {
    if (!this.file) return;
    try {
      this.memo = JSON.parse(await readFile(this.file, 'utf8')) as Memo;
    } catch (e) {
      if (!(isErrno(e, 'ENOENT') || e instanceof SyntaxError)) throw e;
    }
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(this.memo));
    await rename(tmp, this.file);
  }

  async fileDigest(abs: string, st: Stats): Promise<string> {
    const sig = signature(st);
    const hit = this.memo[abs];
    if (hit && hit[0] === sig) return hit[1];
    let d: string;
    if (st.size <= 1 << 20) d = createHash('sha256').update(readFileSync(abs)).digest('hex');
    else {
      const h = createHash('sha256');
      await pipeline(createReadStream(abs), h);
      d = h.digest('hex');
    }
    this.memo[abs] = [sig, d];
    this.dirty = true;
    return d;
  }

  /** The hash of everything `patterns` select in `root` (undefined entries for patterns with no match). */
  async hashSources(root: SourceRoot, patterns: string[]): Promise<string> {
    const h = createHash('sha256');
    for (const p of patterns) {
      h.update(`pattern ${p}\n`);
      for (const m of matchSources(root, p) ?? []) {
        h.update(`match ${m.rel}\n`);
        await this.entry(h, '', m.abs, m.st);
        if (m.st.isDirectory()) for (const e of walkMatch(root, m)) await this.entry(h, e.rel, e.abs, e.st);
      }
    }
    return h.digest('hex');
  }

  private async entry(h: ReturnType<typeof createHash>, rel: string, abs: string, st: Stats): Promise<void> {
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isFile()) h.update(`f ${rel} ${mode} ${st.size} ${await this.fileDigest(abs, st)}\n`);
    else if (st.isDirectory()) h.update(`d ${rel} ${mode}\n`);
    else if (st.isSymbolicLink()) h.update(`l ${rel} ${await readlink(abs)}\n`);
    else h.update(`o ${rel} ${mode} ${st.mode}\n`);
  }
}
