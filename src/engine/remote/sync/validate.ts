/**
 * The agent's check of a client's manifest before anything is written:
 * every path a clean relative slash path (no `..`, `.`, empty or absolute
 * component, no NUL), unique, under a parent the manifest itself declares as
 * a directory (so no entry is ever reached through a symlink), hardlinks to
 * an earlier file, sane modes, sizes and digests, and a bounded count. A bad
 * manifest is refused with one line naming the entry; nothing is written.
 */
import { invalidArgument } from '../../../errors.js';
import type { ContextManifest, ManifestEntry } from './manifest.js';

export interface ManifestLimits {
  /** Most entries a context may have (default 1,000,000). */
  maxEntries: number;
  /** Most bytes of content (default 64 GiB). */
  maxBytes: number;
}

export const defaultLimits: ManifestLimits = { maxEntries: 1_000_000, maxBytes: 64 * 2 ** 30 };

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TYPES = new Set(['file', 'dir', 'symlink', 'fifo', 'hardlink']);
const MAX_PATH = 4096;

const bad = (what: string, e?: Partial<ManifestEntry>) =>
  invalidArgument(`build context manifest refused: ${e?.path !== undefined ? `entry ${JSON.stringify(String(e.path).slice(0, 200))}: ` : ''}${what}`, {
    hint: 'the client sent a context the agent cannot accept; use a kiln client of the same version',
  });

function checkPath(p: unknown): string | undefined {
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATH) return 'the path is empty or too long';
  if (p.includes('\0')) return 'the path holds a NUL byte';
  if (p.startsWith('/')) return 'the path is absolute';
  // Component by component without splitting (a manifest is checked whole at every changed build).
  for (let i = 0; i <= p.length; ) {
    let j = p.indexOf('/', i);
    if (j < 0) j = p.length;
    const n = j - i;
    if (n === 0 || (n === 1 && p[i] === '.') || (n === 2 && p[i] === '.' && p[i + 1] === '.')) return 'the path is not a clean relative path (empty, "." or ".." component)';
    // A UTF-16 code unit is at most 3 bytes of UTF-8: only a component longer than 85 units can pass 255 bytes.
    if (n > 85 && Buffer.byteLength(p.slice(i, j)) > 255) return 'a path component is longer than 255 bytes';
    i = j + 1;
  }
  return undefined;
}

/** Throws INVALID_ARGUMENT for the first bad entry; returns the manifest typed. */
export function validateManifest(m: unknown, limits: ManifestLimits = defaultLimits): ContextManifest {
  const entries = (m as ContextManifest | undefined)?.entries;
  if (!Array.isArray(entries)) throw bad('no entries list');
  if (entries.length > limits.maxEntries) throw bad(`${entries.length} entries, more than the ${limits.maxEntries} allowed`);
  const types = new Map<string, string>();
  let bytes = 0;
  for (const e of entries as ManifestEntry[]) {
    if (typeof e !== 'object' || e === null) throw bad('an entry is not an object');
    const why = checkPath(e.path);
    if (why) throw bad(why, e);
    if (!TYPES.has(e.type)) throw bad(`unknown type ${JSON.stringify(e.type)}`, e);
    if (types.has(e.path)) throw bad('listed twice', e);
    const slash = e.path.lastIndexOf('/');
    if (slash > 0 && types.get(e.path.slice(0, slash)) !== 'dir') throw bad('its parent directory is not listed before it', e);
    if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0o7777) throw bad('bad mode', e);
    if (typeof e.mtimeMs !== 'number' || !Number.isFinite(e.mtimeMs)) throw bad('bad mtime', e);
    if (e.type === 'file') {
      if (typeof e.digest !== 'string' || !DIGEST.test(e.digest)) throw bad('a file needs a sha256:… digest', e);
      if (!Number.isSafeInteger(e.size) || e.size! < 0) throw bad('bad size', e);
      bytes += e.size!;
      if (bytes > limits.maxBytes) throw bad(`the context is larger than the ${limits.maxBytes} bytes allowed`, e);
    }
    if (e.type === 'symlink' && (typeof e.target !== 'string' || e.target.length === 0 || e.target.length > MAX_PATH || e.target.includes('\0'))) {
      throw bad('bad symlink target', e);
    }
    if (e.type === 'hardlink' && (typeof e.target !== 'string' || types.get(e.target) !== 'file')) throw bad('a hardlink must name an earlier file', e);
    types.set(e.path, e.type);
  }
  return { entries: entries as ManifestEntry[] };
}
