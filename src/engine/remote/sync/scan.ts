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
import { ManifestDigester, type ContextManifest, type ManifestEntry } from './manifest.js';

export interface ScanOptions {
  /** The Dockerfile's path (absolute or relative to the cwd): `<Dockerfile>.dockerignore` beside it wins, as locally. */
  dockerfile?: string;
  /** Where the digest memo is kept (`<dir>/buildcache/stat/`): the client's --root, shared with local builds. */
  cacheDir?: string;
}

export interface ScannedContext {
  manifest: ContextManifest;
  /** The manifest's digest (sync/manifest.ts manifestDigest), computed as the entries were found. */
  digest: string;
  /** digest → a file on the client holding those bytes (the first path with it). */
  readonly sources: Map<string, string>;
  /** Where the ignore rules came from, if anywhere. */
  ignoreFile?: string;
}

/** Entries walked between two turns of the event loop. */
const YIELD_EVERY = 256;

export async function scanContext(contextDir: string, opts: ScanOptions = {}): Promise<ScannedContext> {
  const dir = path.resolve(contextDir);
  const { matcher, file } = await loadIgnore(dir, opts.dockerfile === undefined ? undefined : path.resolve(opts.dockerfile));
  const hasher = new SourceHasher(opts.cacheDir, dir);
  await hasher.load();
  const entries: ManifestEntry[] = [];
  const digester = new ManifestDigester();
  const add = (entry: ManifestEntry) => {
    entries.push(entry);
    digester.add(entry);
  };
  const firstOfInode = new Map<string, string>();
  let root = '';
  let n = 0;
  for (const e of walkContext(dir, { ignore: matcher })) {
    // The walk is synchronous: a turn of the event loop now and then lets the agent connection's
    // TLS handshake and HTTP/2 settings (started before the scan) finish while the context is walked.
    if (++n % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    if (e.type === 'dir' || e.type === 'fifo') add({ path: e.path, type: e.type, mode: e.mode, mtimeMs: e.mtimeMs });
    else if (e.type === 'symlink') add({ path: e.path, type: 'symlink', mode: e.mode, mtimeMs: e.mtimeMs, target: e.linkTarget! });
    else {
      const st = e.stats;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = firstOfInode.get(key);
        if (first !== undefined) {
          add({ path: e.path, type: 'hardlink', mode: e.mode, mtimeMs: e.mtimeMs, target: first });
          continue;
        }
        firstOfInode.set(key, e.path);
      }
      root ||= e.absolutePath.slice(0, e.absolutePath.length - e.path.length);
      const d = hasher.fileDigest(e.absolutePath, st);
      const digest = `sha256:${typeof d === 'string' ? d : await d}`;
      add({ path: e.path, type: 'file', mode: e.mode, mtimeMs: e.mtimeMs, size: st.size, digest });
    }
  }
  await hasher.save().catch(() => undefined); // a memo that cannot be written only costs a re-hash next time
  let sources: Map<string, string> | undefined;
  return {
    manifest: { entries },
    digest: digester.digest(),
    // Made when first asked (files to upload): a build with nothing to send never builds it.
    get sources() {
      if (!sources) {
        sources = new Map();
        for (const e of entries) if (e.type === 'file' && !sources.has(e.digest!)) sources.set(e.digest!, root + e.path);
      }
      return sources;
    },
    ...(file ? { ignoreFile: file } : {}),
  };
}
