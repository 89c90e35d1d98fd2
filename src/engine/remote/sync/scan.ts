/**
 * The client's side of the context sync: walks the context the way the
 * local builder sees it (the same walker, the same .dockerignore choice) and
 * describes it as a manifest, hashing file contents through the builder's
 * stat-memoised SourceHasher, so an unchanged file is not read again on the
 * next build. Also answers where the bytes of a digest can be read.
 */
import path from 'node:path';
import { loadIgnore, walkContext } from '../../../dockerfile/index.js';
import { SourceHasher } from '../../../builder/hasher.js';
import type { ContextManifest, ManifestEntry } from './manifest.js';

export interface ScanOptions {
  /** The Dockerfile's path (absolute or relative to the cwd): `<Dockerfile>.dockerignore` beside it wins, as locally. */
  dockerfile?: string;
  /** Where the digest memo is kept (`<dir>/buildcache/stat/`): the client's --root, shared with local builds. */
  cacheDir?: string;
}

export interface ScannedContext {
  manifest: ContextManifest;
  /** digest → a file on the client holding those bytes. */
  sources: Map<string, string>;
  /** Where the ignore rules came from, if anywhere. */
  ignoreFile?: string;
}

export async function scanContext(contextDir: string, opts: ScanOptions = {}): Promise<ScannedContext> {
  const dir = path.resolve(contextDir);
  const { matcher, file } = await loadIgnore(dir, opts.dockerfile === undefined ? undefined : path.resolve(opts.dockerfile));
  const hasher = new SourceHasher(opts.cacheDir, dir);
  await hasher.load();
  const entries: ManifestEntry[] = [];
  const sources = new Map<string, string>();
  const firstOfInode = new Map<string, string>();
  for (const e of walkContext(dir, { ignore: matcher })) {
    const base = { path: e.path, mode: e.mode, mtimeMs: e.mtimeMs };
    if (e.type === 'dir' || e.type === 'fifo') entries.push({ ...base, type: e.type });
    else if (e.type === 'symlink') entries.push({ ...base, type: 'symlink', target: e.linkTarget! });
    else {
      const st = e.stats;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = firstOfInode.get(key);
        if (first !== undefined) {
          entries.push({ ...base, type: 'hardlink', target: first });
          continue;
        }
        firstOfInode.set(key, e.path);
      }
      const d = hasher.fileDigest(e.absolutePath, st);
      const digest = `sha256:${typeof d === 'string' ? d : await d}`;
      entries.push({ ...base, type: 'file', size: st.size, digest });
      if (!sources.has(digest)) sources.set(digest, e.absolutePath);
    }
  }
  await hasher.save().catch(() => undefined); // a memo that cannot be written only costs a re-hash next time
  return { manifest: { entries }, sources, ...(file ? { ignoreFile: file } : {}) };
}
