/**
 * A build context as the client describes it to the agent: every entry the
 * build would see (after .dockerignore), parents first, with what the agent
 * needs to reproduce it byte for byte: type, mode, mtime, the sha256 of a
 * file's content, a symlink's target, the first path of a hardlink group.
 * Owners are not sent: COPY resets them, and the agent writes as itself.
 * A rebuild sends only the changes against the manifest of the build before
 * (named by its digest), which the agent keeps beside the synced copy.
 */
import { createHash } from 'node:crypto';
export type ManifestEntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'hardlink';

export interface ManifestEntry {
  /** Slash path relative to the context root (`src/main.go`). */
  path: string;
  type: ManifestEntryType;
  /** Permission bits and setuid/setgid/sticky (`mode & 0o7777`). */
  mode: number;
  mtimeMs: number;
  /** Files: bytes. */
  size?: number;
  /** Files: `sha256:…` of the content. */
  digest?: string;
  /** Symlinks: the target as stored; hardlinks: the path of an earlier file entry. */
  target?: string;
}

export interface ContextManifest {
  entries: ManifestEntry[];
}

/**
 * One `manifest_json` message of the Build stream, the last part without
 * `more`. A full manifest is its `entries`; a delta (the start message names
 * its base) is `entries` added or changed plus the paths in `remove`.
 */
export interface ManifestPart {
  entries: ManifestEntry[];
  remove?: string[];
  more?: boolean;
}

/** An entry with its keys in one order, so both sides hash the same bytes. */
export function canonicalEntry(e: ManifestEntry): ManifestEntry {
  const c: ManifestEntry = { path: e.path, type: e.type, mode: e.mode, mtimeMs: e.mtimeMs };
  if (e.size !== undefined) c.size = e.size;
  if (e.digest !== undefined) c.digest = e.digest;
  if (e.target !== undefined) c.target = e.target;
  return c;
}

/**
 * A manifest's digest built entry by entry, as a scan finds them: the canonical lines are hashed in
 * blocks of 64 KiB (one call into the hash per block, not two per entry); the bytes are the same.
 */
export class ManifestDigester {
  private readonly hash = createHash('sha256');
  private block = '';

  add(e: ManifestEntry): void {
    this.addLine(JSON.stringify(canonicalEntry(e)) + '\n');
  }

  addLine(line: string): void {
    this.block += line;
    if (this.block.length >= 1 << 16) {
      this.hash.update(this.block);
      this.block = '';
    }
  }

  digest(): string {
    this.hash.update(this.block);
    this.block = '';
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * Canonical lines of entries a whole manifest was digested with, by entry object. Entries are not changed once made
 * (a delta brings new ones), and the agent digests, at every changed build, a manifest made of its stored one's
 * entries and the few the client sent: only those few are made into lines again.
 */
const lines = new WeakMap<ManifestEntry, string>();

/** The identity of a manifest: sha256 of its canonical entries (one JSON line each), in order. */
export function manifestDigest(m: ContextManifest): string {
  const d = new ManifestDigester();
  for (const e of m.entries) {
    let line = lines.get(e);
    if (line === undefined) lines.set(e, (line = JSON.stringify(canonicalEntry(e)) + '\n'));
    d.addLine(line);
  }
  return d.digest();
}

/** The walk's order: parents first, names in byte order within a directory. */
export function comparePaths(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = Buffer.compare(Buffer.from(x[i]!), Buffer.from(y[i]!));
    if (c !== 0) return c;
  }
  return x.length - y.length;
}

/** What differs between two manifests: entries added or changed, paths removed. */
export interface ManifestDelta {
  entries: ManifestEntry[];
  remove: string[];
}

/** Whether two entries of one path hash the same canonical line (every field canonicalEntry keeps). */
function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.type === b.type && a.mode === b.mode && a.mtimeMs === b.mtimeMs && a.size === b.size && a.digest === b.digest && a.target === b.target;
}

/** Fields compared as they are (no canonical line made per entry: ~3 µs each, on both sides of every changed build). */
export function diffManifest(base: ContextManifest, next: ContextManifest): ManifestDelta {
  const old = new Map<string, ManifestEntry>();
  for (const e of base.entries) old.set(e.path, e);
  const entries: ManifestEntry[] = [];
  for (const e of next.entries) {
    const o = old.get(e.path);
    if (o === undefined || !sameEntry(o, e)) entries.push(e);
    old.delete(e.path);
  }
  return { entries, remove: [...old.keys()] };
}

/**
 * `base` with a delta applied, in the walk's order (the result is validated and its digest checked by the caller).
 * `base` is in that order already: a changed entry takes its path's place and a removed one leaves it, so only
 * added paths are placed (by binary search); the base is not sorted again.
 */
export function applyDelta(base: ContextManifest, entries: ManifestEntry[], remove: string[]): ContextManifest {
  const at = new Map<string, number>();
  base.entries.forEach((e, i) => at.set(e.path, i));
  const out: (ManifestEntry | undefined)[] = [...base.entries];
  for (const p of remove) {
    const i = at.get(p);
    if (i !== undefined) out[i] = undefined;
  }
  const added = new Map<string, ManifestEntry>();
  for (const e of entries) {
    const i = at.get(e.path);
    if (i !== undefined) out[i] = e;
    else added.set(e.path, e);
  }
  if (added.size === 0) return { entries: out.filter((e) => e !== undefined) };
  // Each added path goes before the first base path after it (base paths, removed or not, keep their order).
  const paths = base.entries.map((e) => e.path);
  const before = new Map<number, ManifestEntry[]>();
  for (const e of [...added.values()].sort((a, b) => comparePaths(a.path, b.path))) {
    let lo = 0;
    let hi = paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePaths(paths[mid]!, e.path) < 0) lo = mid + 1;
      else hi = mid;
    }
    before.set(lo, [...(before.get(lo) ?? []), e]);
  }
  const result: ManifestEntry[] = [];
  for (let i = 0; i <= out.length; i++) {
    for (const e of before.get(i) ?? []) result.push(e);
    const e = out[i];
    if (e !== undefined) result.push(e);
  }
  return { entries: result };
}

/** Entries per manifest message (about 100 bytes each: well under gRPC's 4 MB message limit). */
export const MANIFEST_PART_ENTRIES = 10_000;

/** The parts a manifest (or a delta: entries and removed paths) is sent in. */
export function* manifestParts(entries: ManifestEntry[], remove: string[] = []): Generator<ManifestPart> {
  const items: ({ e: ManifestEntry } | { r: string })[] = [...entries.map((e) => ({ e })), ...remove.map((r) => ({ r }))];
  for (let i = 0; i === 0 || i < items.length; i += MANIFEST_PART_ENTRIES) {
    const slice = items.slice(i, i + MANIFEST_PART_ENTRIES);
    const part: ManifestPart = { entries: slice.flatMap((x) => ('e' in x ? [x.e] : [])) };
    const rm = slice.flatMap((x) => ('r' in x ? [x.r] : []));
    if (rm.length > 0) part.remove = rm;
    if (i + MANIFEST_PART_ENTRIES < items.length) part.more = true;
    yield part;
  }
}

/** Bytes of content the manifest names, each digest counted once (what a first upload sends). */
export function uniqueBytes(m: ContextManifest): number {
  const seen = new Map<string, number>();
  for (const e of m.entries) if (e.type === 'file' && e.digest) seen.set(e.digest, e.size ?? 0);
  let n = 0;
  for (const s of seen.values()) n += s;
  return n;
}
