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
import { SourceHasher, type StatKey } from '../../../builder/hasher.js';
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
  /**
   * The manifest. After a walk that was the known one (`unchanged`) it is made when first read (its digests looked
   * up in the memo then): a no-change build never reads it, unless the agent asks for the whole manifest or files.
   */
  readonly manifest: ContextManifest;
  /** The manifest's digest (sync/manifest.ts manifestDigest), or the known one for the same walk. */
  digest: string;
  /** Entries in the manifest (known without making it). */
  readonly entryCount: number;
  /** The walk was the one the known digest was made from (`ScanOptions.known`): the manifest is the one last sent. */
  readonly unchanged?: boolean;
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
  const walked: Walked[] = [];
  const fp = new WalkFingerprint(dir);
  for (const e of walkContext(dir, { ignore: matcher })) {
    // The walk is synchronous: a turn of the event loop now and then lets the agent connection's
    // TLS handshake and HTTP/2 settings (started before the scan) finish while the context is walked.
    if (walked.push(kept(e)) % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    fp.add(e);
  }
  const fingerprint = fp.digest();
  const known = await opts.known?.catch(() => undefined);
  // The same walk as the one the known manifest was made from: every entry, and every file's stat on which its
  // digest is trusted (the memo's signature, and more), is as it was then, so it is that manifest. Its entries are
  // then made, and the memo parsed for their digests, only if the manifest is read (a no-change build does not).
  const unchanged = known !== undefined && known.fingerprint === fingerprint && known.entries === walked.length;
  const hasher = new SourceHasher(opts.cacheDir, dir);
  let made: Made | undefined;
  if (!unchanged) made = await madeOf(walked, hasher, false);
  let saved: Promise<void> | undefined;
  const saveMemo = () => (saved ??= hasher.save().catch(() => undefined)); // a memo not written only costs a re-hash next time
  const whole = (): Made => {
    if (made) return made;
    made = madeOf(walked, hasher, true) as Made;
    if (hasher.changed) saved = undefined; // digests made now: the next saveMemo writes them, even after an earlier one
    return made;
  };
  if (!opts.saveMemoLater) await saveMemo();
  let sources: Map<string, string> | undefined;
  return {
    get manifest() {
      return whole().manifest;
    },
    digest: unchanged ? known.digest : manifestDigest(made!.manifest),
    entryCount: walked.length,
    ...(unchanged ? { unchanged } : {}),
    // Made when first asked (files to upload): a build with nothing to send never builds it.
    get sources() {
      return (sources ??= sourcesOf(whole().files));
    },
    fingerprint,
    saveMemo,
    ...(file ? { ignoreFile: file } : {}),
  };
}

/**
 * What the scan keeps of a walked entry until its manifest is made: the numbers, not the Stats (whose four Dates
 * would then live as long, and be copied by every young-generation collection meanwhile).
 */
interface Walked extends StatKey {
  path: string;
  type: ContextEntry['type'];
  mode: number;
  linkTarget?: string;
  absolutePath: string;
  dev: number;
  nlink: number;
}

const kept = (e: ContextEntry): Walked => {
  const st = e.stats;
  return { path: e.path, type: e.type, mode: e.mode, mtimeMs: e.mtimeMs, linkTarget: e.linkTarget, absolutePath: e.absolutePath, size: st.size, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev, nlink: st.nlink };
};

/** A walk's manifest, but for its files' digests, and its file entries with where their bytes are (for those). */
interface Made {
  manifest: ContextManifest;
  files: { entry: ManifestEntry; absolutePath: string; stats: StatKey }[];
}

function entriesOf(walked: Walked[]): Made {
  const entries: ManifestEntry[] = [];
  const files: Made['files'] = [];
  const firstOfInode = new Map<string, string>();
  for (const e of walked) {
    if (e.type === 'dir' || e.type === 'fifo') entries.push({ path: e.path, type: e.type, mode: e.mode, mtimeMs: e.mtimeMs });
    else if (e.type === 'symlink') entries.push({ path: e.path, type: 'symlink', mode: e.mode, mtimeMs: e.mtimeMs, target: e.linkTarget! });
    else {
      if (e.nlink > 1) {
        const key = `${e.dev}:${e.ino}`;
        const first = firstOfInode.get(key);
        if (first !== undefined) {
          entries.push({ path: e.path, type: 'hardlink', mode: e.mode, mtimeMs: e.mtimeMs, target: first });
          continue;
        }
        firstOfInode.set(key, e.path);
      }
      const entry: ManifestEntry = { path: e.path, type: 'file', mode: e.mode, mtimeMs: e.mtimeMs, size: e.size };
      entries.push(entry);
      files.push({ entry, absolutePath: e.absolutePath, stats: e });
    }
  }
  return { manifest: { entries }, files };
}

/**
 * A walk's manifest with its files' digests, from the memo (loaded now) or read: a file past 1 MiB is awaited,
 * unless `sync` (a manifest made when first read, which cannot wait), when it is read synchronously too.
 */
function madeOf(walked: Walked[], hasher: SourceHasher, sync: boolean): Made | Promise<Made> {
  const made = entriesOf(walked);
  hasher.loadSync();
  return digestsFrom(made, 0, hasher, sync);
}

/** Sets the digests of `made.files` from index `i` on: synchronously until a file must be awaited. */
function digestsFrom(made: Made, i: number, hasher: SourceHasher, sync: boolean): Made | Promise<Made> {
  const files = made.files;
  for (; i < files.length; i++) {
    const f = files[i]!;
    const d = sync ? hasher.fileDigestSync(f.absolutePath, f.stats) : hasher.fileDigest(f.absolutePath, f.stats);
    if (typeof d !== 'string') {
      const next = i + 1;
      return d.then((x) => {
        f.entry.digest = `sha256:${x}`;
        return digestsFrom(made, next, hasher, sync);
      });
    }
    f.entry.digest = `sha256:${d}`;
  }
  return made;
}

/** digest → the first file with it. */
function sourcesOf(files: Made['files']): Map<string, string> {
  const sources = new Map<string, string>();
  for (const f of files) if (!sources.has(f.entry.digest!)) sources.set(f.entry.digest!, f.absolutePath);
  return sources;
}
