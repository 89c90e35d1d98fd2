/**
 * .dockerignore: reading the file (Docker's rules for comments, blanks, `!`,
 * leading `/`), choosing it (`<Dockerfile>.dockerignore` beside a named
 * Dockerfile wins over the context's), and deciding if a path is excluded.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../../errors.js';
import { DockerfileError } from '../located-error.js';
import { cleanPath, compilePattern, PatternError, type IgnorePattern } from './pattern.js';

export class IgnoreMatcher {
  constructor(readonly patterns: IgnorePattern[]) {}

  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Is this context-relative slash path excluded (it or one of its parents matched)? */
  excludes(rel: string): boolean {
    if (this.patterns.length === 0) return false;
    let matched = false;
    const dirs = rel.split('/');
    dirs.pop();
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let hit = p.match(rel);
      for (let i = 1; !hit && i <= dirs.length; i++) hit = p.match(dirs.slice(0, i).join('/'));
      if (hit) matched = !p.exclusion;
    }
    return matched;
  }
}

/** Parses .dockerignore text into patterns; `file` names it in errors. */
export function parseIgnore(text: string, file = '.dockerignore'): IgnoreMatcher {
  const patterns: IgnorePattern[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.startsWith('#')) return;
    let p = raw.trim();
    if (p === '') return;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    try {
      patterns.push(compilePattern((invert ? '!' : '') + p, i + 1));
    } catch (e) {
      if (e instanceof PatternError) throw new DockerfileError({ file, line: i + 1, source: raw }, e.message, { hint: 'see https://docs.docker.com/build/concepts/context/#dockerignore-files' });
      throw e;
    }
  });
  return new IgnoreMatcher(patterns);
}

/**
 * Loads the ignore file for a build: `<dockerfile>.dockerignore` next to the
 * Dockerfile if there is one, else `<context>/.dockerignore`, else nothing.
 */
export async function loadIgnore(contextDir: string, dockerfile?: string): Promise<{ matcher: IgnoreMatcher; file?: string }> {
  const candidates = dockerfile ? [`${path.resolve(contextDir, dockerfile)}.dockerignore`] : [];
  candidates.push(path.join(contextDir, '.dockerignore'));
  for (const file of candidates) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if (isErrno(e, 'ENOENT')) continue;
      throw e;
    }
    return { matcher: parseIgnore(text, file), file };
  }
  return { matcher: new IgnoreMatcher([]) };
}
