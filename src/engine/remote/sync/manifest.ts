/**
 * A build context as the client describes it to the agent: every entry the
 * build would see (after .dockerignore), parents first, with what the agent
 * needs to reproduce it byte for byte: type, mode, mtime, the sha256 of a
 * file's content, a symlink's target, the first path of a hardlink group.
 * Owners are not sent: COPY resets them, and the agent writes as itself.
 */
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

/** One `manifest_json` message of the Build stream: entries in parts, the last part without `more`. */
export interface ManifestPart {
  entries: ManifestEntry[];
  more?: boolean;
}

/** Entries per manifest message (about 100 bytes each: well under gRPC's 4 MB message limit). */
export const MANIFEST_PART_ENTRIES = 10_000;

/** The parts a manifest is sent in. */
export function* manifestParts(m: ContextManifest): Generator<ManifestPart> {
  const n = m.entries.length;
  for (let i = 0; i === 0 || i < n; i += MANIFEST_PART_ENTRIES) {
    const entries = m.entries.slice(i, i + MANIFEST_PART_ENTRIES);
    yield i + MANIFEST_PART_ENTRIES < n ? { entries, more: true } : { entries };
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
