/**
 * Docker's shell word expansion (a leaf: imports nothing from kiln but errors).
 *
 * Two forms, as BuildKit has them: `expandWord` gives one string (WORKDIR,
 * USER, ENV values…), `expandWords` also splits on unquoted blanks, including
 * blanks that came out of an unquoted `$VAR` (EXPOSE, VOLUME, ONBUILD…).
 * Quotes and the escape character (`\` or the file's `# escape=` token) work
 * as Docker documents; the environment is a getter, so callers decide where
 * values come from.
 */
import { invalidArgument } from '../../errors.js';
import { globToRegExp } from './pattern.js';
import { NO_WORDS, Words, isSpace, type WordSink } from './words.js';

/** Looks a variable up; `undefined` means unset (distinct from empty). */
export type EnvGetter = (name: string) => string | undefined;

export interface LexOptions {
  /** The escape character of the Dockerfile (default `\`). */
  escape?: string;
  /** Keep quote characters in the result (used to find heredoc names). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** expandWords: return only the words passing this test (cheap on huge lines). */
  keepWord?: (word: string) => boolean;
  /** Here-document body rules: quotes are plain text, escapes only before `$` and the escape. */
  heredoc?: boolean;
}

/** Expands one word; throws INVALID_ARGUMENT on bad syntax or `${X?msg}`. */
export function expandWord(word: string, env: EnvGetter, opts: LexOptions = {}): string {
  return new Lexer(word, env, opts).run(false).text;
}

/** Expands and splits into words the way the shell would (quotes keep blanks). */
export function expandWords(word: string, env: EnvGetter, opts: LexOptions = {}): string[] {
  return new Lexer(word, env, opts).run(true).words;
}

/**
 * Expands an unquoted here-document body (`COPY <<EOF`): `$VAR` and `${…}`
 * expand, `\$` and `\\` escape, quotes are kept as text.
 */
export function expandHeredoc(body: string, env: EnvGetter, opts: LexOptions = {}): string {
  return new Lexer(body, env, { ...opts, heredoc: true }).run(false).text;
}

/** An environment getter over a plain record (own keys only). */
export function envFrom(record: Record<string, string>): EnvGetter {
  return (name) => (Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined);
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const isDigit = (c: string) => (c >= '0' && c <= '9') || (c > '\x7f' && /^\p{Nd}$/u.test(c));
const isNameChar = (c: string) =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_' || (c > '\x7f' && /^[\p{L}\p{Nd}]$/u.test(c));
/** Deeper `${…${…}}` nesting than this is rejected rather than overflowing the stack. */
const MAX_DEPTH = 200;

class Lexer {
  private readonly s: string;
  private pos = 0;
  private depth = 0;
  private readonly escape: string;

  constructor(
    input: string,
    private readonly env: EnvGetter,
    private readonly opts: LexOptions,
  ) {
    this.s = input;
    this.escape = opts.escape ?? '\\';
  }

  run(wantWords: boolean): { text: string; words: string[] } {
    return this.until(undefined, Boolean(this.opts.rawEscapes), wantWords);
  }

  /** The code point at the cursor (a whole surrogate pair), or undefined at the end. */
  private peek(): string | undefined {
    if (this.pos >= this.s.length) return undefined;
    const cp = this.s.codePointAt(this.pos) as number;
    return cp > 0xffff ? String.fromCodePoint(cp) : this.s[this.pos];
  }

  private next(): string | undefined {
    const c = this.peek();
    if (c !== undefined) this.pos += c.length;
    return c;
  }

  /** Reads up to `stop` (consumed) or the end; the workhorse of every form. */
  private until(stop: string | undefined, rawEscapes: boolean, wantWords = false): { text: string; words: string[] } {
    if (++this.depth > MAX_DEPTH) throw invalidArgument(`\${…} nested more than ${MAX_DEPTH} deep`);
    // Only one of the two results is ever wanted; building just that one keeps big inputs cheap.
    let text = '';
    const words: WordSink = wantWords ? new Words(this.opts.keepWord) : NO_WORDS;
    const keepText = !wantWords;
    const s = this.s;
    while (this.pos < s.length) {
      const ch = s[this.pos];
      if (stop !== undefined && ch === stop) {
        this.pos++;
        this.depth--;
        return { text, words: words.result() };
      }
      if ((ch === "'" || ch === '"') && !this.opts.heredoc) {
        const part = ch === "'" ? this.singleQuoted() : this.doubleQuoted();
        if (keepText) text += part;
        words.addRaw(part);
        continue;
      }
      if (ch === '$') {
        const part = this.dollar();
        if (keepText) text += part;
        words.addExpanded(part);
        continue;
      }
      if (ch === this.escape && this.opts.heredoc) {
        this.pos++;
        const after = this.peek();
        if (after === '$' || after === this.escape) {
          this.pos++;
          text += after;
        } else text += ch;
        continue;
      }
      if (ch === this.escape) {
        this.pos++;
        if (rawEscapes) {
          if (keepText) text += ch;
          words.addRaw(ch);
        }
        const escaped = this.next();
        if (escaped === undefined) break; // an escape at the very end is dropped
        if (keepText) text += escaped;
        words.addRaw(escaped);
        continue;
      }
      if (isSpace(ch)) {
        this.pos++;
        if (keepText) text += ch;
        words.addChar(ch);
        continue;
      }
      // A run of ordinary characters, taken at once.
      let end = this.pos + 1;
      const esc = this.escape.charCodeAt(0);
      const stopCode = stop === undefined ? -1 : stop.charCodeAt(0);
      for (; end < s.length; end++) {
        const c = s.charCodeAt(end);
        if (c === stopCode || c === 0x24 || c === esc || c === 0x20 || (c >= 0x09 && c <= 0x0d)) break;
        if ((c === 0x27 || c === 0x22) && !this.opts.heredoc) break;
        if (c > 0x7f && isSpace(s[end])) break;
      }
      const run = s.slice(this.pos, end);
      this.pos = end;
      if (keepText) text += run;
      words.addRaw(run);
    }
    if (stop !== undefined) throw invalidArgument(`unexpected end of statement while looking for matching ${stop}`);
    this.depth--;
    return { text, words: words.result() };
  }

  private singleQuoted(): string {
    const raw = Boolean(this.opts.rawQuotes);
    const close = this.s.indexOf("'", this.pos + 1);
    if (close < 0) throw invalidArgument('unexpected end of statement while looking for matching single-quote');
    const body = this.s.slice(this.pos + 1, close);
    this.pos = close + 1;
    return raw ? `'${body}'` : body;
  }

  private doubleQuoted(): string {
    const raw = Boolean(this.opts.rawQuotes);
    let out = raw ? '"' : '';
    this.pos++;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw invalidArgument('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.pos++;
        return raw ? out + ch : out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      if (ch !== this.escape) {
        let end = this.pos + 1;
        while (end < this.s.length && this.s[end] !== '"' && this.s[end] !== '$' && this.s[end] !== this.escape) end++;
        out += this.s.slice(this.pos, end);
        this.pos = end;
        continue;
      }
      this.pos += ch.length;
      if (ch === this.escape) {
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.escape) {
          if (this.opts.rawEscapes) out += ch;
          out += after;
          this.pos++;
          continue;
        }
      }
      out += ch;
    }
  }

  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== undefined && isDigit(this.peek() as string)) name += this.next();
        return name;
      }
      if (name === '' && SPECIAL_PARAMS.has(ch)) {
        this.pos++;
        return ch;
      }
      if (!isNameChar(ch)) break;
      name += ch;
      this.pos += ch.length;
    }
    return name;
  }

  private dollar(): string {
    this.pos++; // the $
    if (this.peek() !== '{') {
      const name = this.name();
      return name === '' ? '$' : (this.env(name) ?? '');
    }
    this.pos++; // the {
    const first = this.peek();
    if (first === undefined) throw invalidArgument("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw invalidArgument('syntax error: bad substitution');
    const name = this.name();
    let op = this.next();
    if (op === '}') return this.env(name) ?? '';
    if (op === undefined) throw invalidArgument("syntax error: missing '}'");
    let spelled = op;
    let nullIsUnset = false;
    if (op === ':') {
      nullIsUnset = true;
      op = this.next();
      if (op === undefined) throw invalidArgument("syntax error: missing '}'");
      spelled += op;
    }
    if (op === '/' && !nullIsUnset) return this.replace(name);
    if (!['-', '+', '?', '#', '%'].includes(op) || (nullIsUnset && (op === '#' || op === '%'))) {
      throw invalidArgument(`unsupported modifier (${spelled}) in substitution of ${name}`);
    }
    const word = this.modifierWord(op === '#' || op === '%');
    const value = this.env(name);
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (op) {
      case '-':
        return unset ? word : (value as string);
      case '+':
        return unset ? '' : word;
      case '?':
        if (unset) {
          const why = value === undefined ? 'is not allowed to be unset' : 'is not allowed to be empty';
          throw invalidArgument(`${name}: ${word || why}`);
        }
        return value as string;
      default:
        return trim(value ?? '', word, op === '#');
    }
  }

  private modifierWord(rawEscapes: boolean): string {
    const atEnd = () => this.peek() === undefined;
    try {
      return this.until('}', rawEscapes).text;
    } catch (e) {
      // A nested construct that ran off the end is reported as the missing brace.
      if (atEnd()) throw invalidArgument("syntax error: missing '}'", { cause: e });
      throw e;
    }
  }

  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.pos++;
    const pattern = this.until('/', true).text;
    const replacement = this.until('}', true).text;
    const value = this.env(name) ?? '';
    const re = globToRegExp(pattern, { greedy: true, flags: all ? 'gu' : 'u' });
    return value.replace(re, () => replacement);
  }
}

/** `${X#p}` / `${X##p}` (prefix) and `${X%p}` / `${X%%p}` (suffix). */
function trim(value: string, word: string, prefix: boolean): string {
  const marker = prefix ? '#' : '%';
  const greedy = word.startsWith(marker);
  const re = globToRegExp(greedy ? word.slice(1) : word, { anchored: true });
  const cps = Array.from(value);
  const n = cps.length;
  for (let k = 0; k <= n; k++) {
    const len = greedy ? n - k : k; // how many code points the pattern would cover
    const part = prefix ? cps.slice(0, len).join('') : cps.slice(n - len).join('');
    if (re.test(part)) return prefix ? cps.slice(len).join('') : cps.slice(0, n - len).join('');
  }
  return value;
}

export { isSpace };
