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
    this.block += JSON.stringify(canonicalEntry(e)) + '\n';
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

/** The identity of a manifest: sha256 of its canonical entries (one JSON line each), in order. */
export function manifestDigest(m: ContextManifest): string {
  const d = new ManifestDigester();
  for (const e of m.entries) d.add(e);
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

/** What changed from `base` to `next`: entries added or changed, paths removed. */
/** What differs between two manifests: entries added or changed, paths removed. */
export interface ManifestDelta {
  entries: ManifestEntry[];
  remove: string[];
}

export function diffManifest(base: ContextManifest, next: ContextManifest): ManifestDelta {
  const old = new Map(base.entries.map((e) => [e.path, JSON.stringify(canonicalEntry(e))]));
  const entries = next.entries.filter((e) => old.get(e.path) !== JSON.stringify(canonicalEntry(e)));
  const now = new Set(next.entries.map((e) => e.path));
  const remove = base.entries.filter((e) => !now.has(e.path)).map((e) => e.path);
  return { entries, remove };
}

/** `base` with a delta applied, in the walk's order (the result is validated and its digest checked by the caller). */
export function applyDelta(base: ContextManifest, entries: ManifestEntry[], remove: string[]): ContextManifest {
  const m = new Map(base.entries.map((e) => [e.path, e]));
  for (const p of remove) m.delete(p);
  for (const e of entries) m.set(e.path, e);
  return { entries: [...m.values()].sort((a, b) => comparePaths(a.path, b.path)) };
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
