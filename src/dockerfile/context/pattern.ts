/**
 * One .dockerignore pattern, matched the way Docker's patternmatcher does:
 * `*` and `?` stay inside one path segment, `**` spans any number of them,
 * `[...]` classes and `\x` escapes work, and a leading `!` makes an exception.
 */
export interface IgnorePattern {
  /** The cleaned pattern, without `!`. */
  text: string;
  exclusion: boolean;
  /** 1-based line in the ignore file (0 when not from a file). */
  line: number;
  match(path: string): boolean;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

export class PatternError extends Error {}

/** POSIX path.Clean on a slash path (no leading-slash handling beyond Clean). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  return rooted ? '/' + joined : joined || '.';
}

const SPECIAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

export function compilePattern(raw: string, line = 0): IgnorePattern {
  let text = raw.trim();
  const exclusion = text.startsWith('!');
  if (exclusion) text = text.slice(1).trim();
  if (text === '') throw new PatternError(`illegal exclusion pattern: ${JSON.stringify(raw)}`);
  text = cleanPath(text);

  const cps = Array.from(text);
  let re = '';
  let type: MatchType = 'exact';
  let inClass = false;
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i];
    if (inClass && ch !== ']' && ch !== '\\') {
      re += ch === '[' ? '\\[' : ch; // a class body is a regex class body
      continue;
    }
    if (ch === '*') {
      if (cps[i + 1] === '*') {
        const atStart = i === 0;
        i++;
        if (cps[i + 1] === '/') i++;
        if (i + 1 >= cps.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (atStart) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (SPECIAL.has(ch)) {
      re += '\\' + ch;
    } else if (ch === '\\') {
      if (i + 1 < cps.length) {
        re += escapeRe(cps[++i]);
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[' || ch === ']') {
      re += ch;
      inClass = ch === '[';
      type = 'regexp';
    } else {
      re += escapeRe(ch);
    }
  }

  let match: (p: string) => boolean;
  if (type === 'exact') match = (p) => p === text;
  else if (type === 'prefix') {
    const prefix = text.slice(0, -2); // the pattern without its trailing **
    match = (p) => p.startsWith(prefix);
  } else if (type === 'suffix') {
    const suffix = text.slice(2);
    match = (p) => p.endsWith(suffix) || (suffix.startsWith('/') && p === suffix.slice(1));
  } else {
    let regex: RegExp;
    try {
      regex = new RegExp(`^${re}$`, 'u');
    } catch (e) {
      if (e instanceof SyntaxError) throw new PatternError(`bad pattern ${JSON.stringify(raw)}: ${e.message}`);
      throw e;
    }
    match = (p) => regex.test(p);
  }
  return { text, exclusion, line, match };
}

/** Escape what means something to a JS regex but not to a Go filepath pattern. */
const escapeRe = (c: string) => (/[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c);
