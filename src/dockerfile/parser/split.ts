/**
 * Splitting an instruction line: the command word, the `--flags` before the
 * arguments (quotes and `\` honoured, `--` ends them), and BuildKit's
 * quote-aware word splitter used by ENV, LABEL and ARG (quotes kept).
 */
import { isSpace } from '../shell/words.js';

/** Go's strings.TrimSpace. */
export const trimSpace = (s: string): string => s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');

/** The `[\t\v\f\r ]+` separator Docker uses between arguments. */
export const BLANKS = /[\t\v\f\r ]+/;

/** Splits on the first run of blanks: `[head, rest]` or `[head]`. */
export function splitOnce(s: string): [string] | [string, string] {
  const m = BLANKS.exec(s);
  if (!m) return [s];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}

/** Takes the leading `--flag` words off an instruction's arguments. */
export function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  const n = line.length;
  for (;;) {
    while (pos < n && isSpace(line[pos])) pos++;
    if (pos >= n) return { rest: '', flags };
    if (!(line[pos] === '-' && line[pos + 1] === '-')) return { rest: line.slice(pos), flags };
    let word = '';
    let blankOK = false;
    let quote = '';
    for (; pos < n; pos++) {
      const ch = line[pos];
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\' && pos + 1 < n) word += line[++pos];
        else if (ch !== '\\') word += ch;
        else quote = '';
        continue;
      }
      if (isSpace(ch)) break;
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      } else if (ch === '\\') {
        if (pos + 1 < n) word += line[++pos];
      } else word += ch;
    }
    if (word === '--') return { rest: line.slice(pos), flags };
    if (blankOK || word.length > 0) flags.push(word);
  }
}

/**
 * BuildKit's parseWords: blanks separate words except inside quotes; quotes
 * and escapes stay in the words (expansion removes them later).
 */
export function splitWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const cps = Array.from(rest);
  let word = '';
  let blankOK = false;
  let inWord = false;
  let quote = '';
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i];
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (!quote) {
      if (isSpace(ch)) {
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        inWord = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
      }
      if (ch === escape) {
        if (i + 1 === cps.length) continue;
        word += ch + cps[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (ch === quote) quote = '';
    if (ch === escape && quote !== "'" && ch !== quote) {
      if (i + 1 === cps.length) {
        quote = '';
        continue;
      }
      word += ch + cps[++i];
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOK || word.length > 0)) words.push(word);
  return words;
}
