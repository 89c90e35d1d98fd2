/**
 * COPY/ADD sources: a pattern (Go filepath.Match wildcards per path
 * component) resolved inside a source root (the context, a stage's or an
 * image's filesystem) as if that root were `/`, .dockerignore applied to the
 * context, and a walk of what a matched directory holds. Symlinks on the way
 * to a match are followed inside the root; inside a copied directory they are
 * copied as links. An ignored file is not in the context at all: a symlink
 * leading to it (or into an ignored directory) matches nothing.
 */
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { resolveInRoot } from '../layer/tar.js';
import type { IgnoreMatcher } from '../dockerfile/index.js';

export interface SourceRoot {
  dir: string;
  /** .dockerignore of the context (only for the context). */
  ignore?: IgnoreMatcher;
  /** COPY --exclude patterns, matched against paths relative to each matched source. */
  exclude?: IgnoreMatcher;
  /** `build context` or `stage builder`, for messages. */
  what: string;
}

export interface Match {
  /** Slash path relative to the source root. */
  rel: string;
  /** Host path, every symlink resolved inside the root. */
  abs: string;
  /** stat of the match (symlinks followed). */
  st: Stats;
  /** Where `abs` is, as a slash path relative to the root (symlinks resolved); .dockerignore is applied to it too. */
  real?: string;
  /** An ADD URL download (never extracted, never walked). */
  download?: boolean;
}

export interface Entry {
  /** Slash path relative to the matched directory. */
  rel: string;
  abs: string;
  st: Stats;
}

const GLOB = /[*?[\\]/;

/** Go's filepath.Match for one path component, as a RegExp. */
export function componentPattern(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\' && i + 1 < p.length) re += escapeRe(p[++i]!);
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = p.slice(i + 1, end);
      if (cls.startsWith('^')) cls = '^' + cls.slice(1).replace(/\\/g, '\\\\');
      else cls = cls.replace(/\\/g, '\\\\');
      re += `[${cls}]`;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 's');
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The pattern's components, or undefined when it climbs out of the root (`../x`). */
export function patternComponents(pattern: string): string[] | undefined {
  const norm = path.posix.normalize(pattern.replace(/^\/+/, '') || '.');
  if (norm === '..' || norm.startsWith('../')) return undefined;
  return norm.split('/').filter((c) => c !== '' && c !== '.');
}

/** Every match of `pattern` in the root (empty when nothing matches or all is ignored). */
export function matchSources(root: SourceRoot, pattern: string): Match[] | undefined {
  const comps = patternComponents(pattern);
  if (comps === undefined) return undefined;
  let found: string[][] = [[]];
  for (const c of comps) {
    const next: string[][] = [];
    const hasGlob = GLOB.test(c);
    const re = hasGlob ? componentPattern(c) : undefined;
    for (const prefix of found) {
      if (!re) {
        next.push([...prefix, c]);
        continue;
      }
      const dir = resolveInRoot(root.dir, prefix, { followLast: true });
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (re.test(n)) next.push([...prefix, n]);
    }
    found = next;
  }
  const out: Match[] = [];
  for (const parts of found) {
    const rel = parts.join('/');
    if (rel !== '' && root.ignore?.excludes(rel) && !keptBelow(root, rel)) continue;
    if (rel !== '' && root.exclude?.excludes(parts[parts.length - 1]!)) continue;
    const abs = resolveInRoot(root.dir, parts, { followLast: true });
    // A symlink that leads to an ignored path does not make it visible: ignored files are not in the context at all.
    const real = path.relative(root.dir, abs).split(path.sep).join('/');
    if (real !== '' && root.ignore?.excludes(real) && !keptBelow(root, real)) continue;
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st) out.push({ rel, abs, st, real });
  }
  return out;
}

/**
 * An excluded directory that holds a path a `!` exception keeps is sent by
 * Docker's client (with only what it keeps), so a pattern matches it.
 */
function keptBelow(root: SourceRoot, rel: string): boolean {
  const ignore = root.ignore;
  if (!ignore?.hasExceptions) return false;
  const holds = (abs: string, r: string): boolean => {
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch {
      return false;
    }
    return names.some((n) => {
      const child = `${r}/${n}`;
      if (!ignore.excludes(child)) return true;
      return lstatSync(path.join(abs, n)).isDirectory() && holds(path.join(abs, n), child);
    });
  };
  const abs = path.join(root.dir, ...rel.split('/'));
  return lstatSync(abs, { throwIfNoEntry: false })?.isDirectory() === true && holds(abs, rel);
}

/** Code-unit order: the same as byte order for every name but rare astral ones, and allocation-free. */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What a matched directory holds, parents first, names in byte order; ignored paths skipped. */
export function* walkMatch(root: SourceRoot, m: Match): Generator<Entry> {
  function* walk(absDir: string, relDir: string): Generator<Entry> {
    for (const name of readdirSync(absDir).sort(byName)) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const at = m.real ?? m.rel;
      const ctxRel = at === '' ? rel : `${at}/${rel}`;
      const abs = absDir.endsWith('/') ? absDir + name : `${absDir}/${name}`; // normalized already: no path.join per file
      const st = lstatSync(abs);
      const excluded = (root.ignore?.excludes(ctxRel) ?? false) || (root.exclude?.excludes(rel) ?? false);
      if (!excluded) yield { rel, abs, st };
      if (st.isDirectory() && (!excluded || root.ignore?.hasExceptions || root.exclude?.hasExceptions)) yield* walk(abs, rel);
    }
  }
  yield* walk(m.abs, '');
}

/** Walks already made of a root (by the hasher), kept for the COPY that follows: the sources are walked once per step. */
const walks = new WeakMap<SourceRoot, Map<string, Entry[]>>();
const walkKey = (m: Match): string => `${m.abs}\0${m.real ?? m.rel}`;

/** walkMatch, remembered for this root object (the first copy is taken by `takeWalk`). */
export function walkMatchKept(root: SourceRoot, m: Match): Entry[] {
  const entries = [...walkMatch(root, m)];
  let kept = walks.get(root);
  if (!kept) walks.set(root, (kept = new Map()));
  kept.set(walkKey(m), entries);
  return entries;
}

/** The walk `walkMatchKept` made of this match (then forgotten), else a fresh walk. */
export function takeWalk(root: SourceRoot, m: Match): Iterable<Entry> {
  const kept = walks.get(root);
  const entries = kept?.get(walkKey(m));
  if (!entries) return walkMatch(root, m);
  kept!.delete(walkKey(m));
  return entries;
}

