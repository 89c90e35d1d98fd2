/**
 * The client's side of the context sync: walks the context the way the
 * local builder sees it (the same walker, the same .dockerignore choice) and
 * describes it as a manifest, hashing file contents through the builder's
 * stat-memoised SourceHasher, so an unchanged file is not read again on the
 * next build. Also answers where the bytes of a digest can be read.
 * The walk's stat tuples are hashed too (the fingerprint): equal to the one the
 * last-sent manifest was made from (`known`), with every file's digest from the
 * memo, the manifest is that one, and its digest lines are not computed.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { loadIgnore, walkContext, type ContextEntry } from '../../../dockerfile/index.js';
import { SourceHasher } from '../../../builder/hasher.js';
import { manifestDigest, type ContextManifest, type ManifestEntry } from './manifest.js';

export interface ScanOptions {
  /** The Dockerfile's path (absolute or relative to the cwd): `<Dockerfile>.dockerignore` beside it wins, as locally. */
  dockerfile?: string;
  /** Where the digest memo is kept (`<dir>/buildcache/stat/`): the client's --root, shared with local builds. */
  cacheDir?: string;
  /** The fingerprint and manifest last sent for this context (lastsent.ts readKnownScan). */
  known?: Promise<KnownScan | undefined>;
  /**
   * The memo is written when the caller calls `saveMemo` (a remote build: while the agent works), not before the
   * scan returns. Unsaved, it only costs hashing the changed files again.
   */
  saveMemoLater?: boolean;
}

/** A walk's fingerprint and the digest of the manifest it gave. */
export interface KnownScan {
  fingerprint: string;
  digest: string;
  entries: number;
}

export interface ScannedContext {
  manifest: ContextManifest;
  /** The manifest's digest (sync/manifest.ts manifestDigest), or the known one for the same walk. */
  digest: string;
  /** digest → a file on the client holding those bytes (the first path with it). */
  readonly sources: Map<string, string>;
  /** Where the ignore rules came from, if anywhere. */
  ignoreFile?: string;
  /** The hash of the walk's stat tuples (WalkFingerprint), '' when there was no walk. */
  readonly fingerprint: string;
  /** Writes the digest memo if the scan changed it (once; already done unless `saveMemoLater`). */
  saveMemo?(): Promise<void>;
}

/** Numbers per entry in the fingerprint. */
const SLOTS = 9;
/** Entries per block of the fingerprint's hash. */
const BLOCK = 1024;

/**
 * The hash of a walk's stat tuples: per entry its lstat's mode (type and permission bits), size, mtime, ctime,
 * inode, device and link count, and its path and link target. That is every field its manifest entry is made
 * from, and for a file the stat memo's signature (size, mtime, ctime, inode: builder/hasher.ts), on which its
 * digest is already trusted. The numbers go in as doubles, the strings with their lengths beside them: no
 * number is formatted (that was most of the cost of text lines).
 */
class WalkFingerprint {
  private readonly hash = createHash('sha256');
  private readonly nums = new Float64Array(SLOTS * BLOCK);
  private n = 0;
  private strings: string[] = [];

  constructor(dir: string) {
    this.hash.update(`kiln context walk 1\n${dir.length}:${dir}\n`);
  }

  add(e: ContextEntry): void {
    if (this.n === this.nums.length) this.flush();
    const st = e.stats;
    const a = this.nums;
    let i = this.n;
    a[i++] = st.mode;
    a[i++] = st.size;
    a[i++] = st.mtimeMs;
    a[i++] = st.ctimeMs;
    a[i++] = st.ino;
    a[i++] = st.dev;
    a[i++] = st.nlink;
    a[i++] = e.path.length;
    a[i++] = e.linkTarget === undefined ? -1 : e.linkTarget.length;
    this.n = i;
    this.strings.push(e.path);
    if (e.linkTarget !== undefined) this.strings.push(e.linkTarget);
  }

  digest(): string {
    this.flush();
    return this.hash.digest('hex');
  }

  private flush(): void {
    this.hash.update(new Uint8Array(this.nums.buffer, 0, this.n * 8));
    this.hash.update(this.strings.join(''));
    this.n = 0;
    this.strings = [];
  }
}

/** Entries walked between two turns of the event loop. */
const YIELD_EVERY = 256;

export async function scanContext(contextDir: string, opts: ScanOptions = {}): Promise<ScannedContext> {
  const dir = path.resolve(contextDir);
  const { matcher, file } = await loadIgnore(dir, opts.dockerfile === undefined ? undefined : path.resolve(opts.dockerfile));
  const hasher = new SourceHasher(opts.cacheDir, dir);
  await hasher.load();
  const entries: ManifestEntry[] = [];
  const fp = new WalkFingerprint(dir);
  const firstOfInode = new Map<string, string>();
  let root = '';
  let n = 0;
  for (const e of walkContext(dir, { ignore: matcher })) {
    // The walk is synchronous: a turn of the event loop now and then lets the agent connection's
    // TLS handshake and HTTP/2 settings (started before the scan) finish while the context is walked.
    if (++n % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    fp.add(e);
    if (e.type === 'dir' || e.type === 'fifo') entries.push({ path: e.path, type: e.type, mode: e.mode, mtimeMs: e.mtimeMs });
    else if (e.type === 'symlink') entries.push({ path: e.path, type: 'symlink', mode: e.mode, mtimeMs: e.mtimeMs, target: e.linkTarget! });
    else {
      const st = e.stats;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = firstOfInode.get(key);
        if (first !== undefined) {
          entries.push({ path: e.path, type: 'hardlink', mode: e.mode, mtimeMs: e.mtimeMs, target: first });
          continue;
        }
        firstOfInode.set(key, e.path);
      }
      root ||= e.absolutePath.slice(0, e.absolutePath.length - e.path.length);
      const d = hasher.fileDigest(e.absolutePath, st);
      const digest = `sha256:${typeof d === 'string' ? d : await d}`;
      entries.push({ path: e.path, type: 'file', mode: e.mode, mtimeMs: e.mtimeMs, size: st.size, digest });
    }
  }
  const fingerprint = fp.digest();
  const known = await opts.known?.catch(() => undefined);
  // The same walk, and every file's digest the memo's (none hashed now): the manifest the known digest names.
  const same = known !== undefined && known.fingerprint === fingerprint && known.entries === entries.length && !hasher.changed;
  let saved: Promise<void> | undefined;
  const saveMemo = () => (saved ??= hasher.save().catch(() => undefined)); // a memo not written only costs a re-hash next time
  if (!opts.saveMemoLater) await saveMemo();
  let sources: Map<string, string> | undefined;
  return {
    manifest: { entries },
    digest: same ? known.digest : manifestDigest({ entries }),
    // Made when first asked (files to upload): a build with nothing to send never builds it.
    get sources() {
      return (sources ??= sourcesOf(entries, root));
    },
    fingerprint,
    saveMemo,
    ...(file ? { ignoreFile: file } : {}),
  };
}

/** digest → the first file with it, under `root`. */
function sourcesOf(entries: ManifestEntry[], root: string): Map<string, string> {
  const sources = new Map<string, string>();
  for (const e of entries) if (e.type === 'file' && !sources.has(e.digest!)) sources.set(e.digest!, root + e.path);
  return sources;
}
