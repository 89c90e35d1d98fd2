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
import { Words, isSpace } from './words.js';

/** Looks a variable up; `undefined` means unset (distinct from empty). */
export type EnvGetter = (name: string) => string | undefined;

export interface LexOptions {
  /** The escape character of the Dockerfile (default `\`). */
  escape?: string;
  /** Keep quote characters in the result (used to find heredoc names). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
}

/** Expands one word; throws INVALID_ARGUMENT on bad syntax or `${X?msg}`. */
export function expandWord(word: string, env: EnvGetter, opts: LexOptions = {}): string {
  return new Lexer(word, env, opts).run().text;
}

/** Expands and splits into words the way the shell would (quotes keep blanks). */
export function expandWords(word: string, env: EnvGetter, opts: LexOptions = {}): string[] {
  return new Lexer(word, env, opts).run().words;
}

/** An environment getter over a plain record (own keys only). */
export function envFrom(record: Record<string, string>): EnvGetter {
  return (name) => (Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined);
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
const isDigit = (c: string) => /^\p{Nd}$/u.test(c);
const isNameChar = (c: string) => /^[\p{L}\p{Nd}_]$/u.test(c);

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private readonly escape: string;

  constructor(
    input: string,
    private readonly env: EnvGetter,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(input);
    this.escape = opts.escape ?? '\\';
  }

  run(): { text: string; words: string[] } {
    return this.until(undefined, Boolean(this.opts.rawEscapes));
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.chars[this.pos++];
  }

  /** Reads up to `stop` (consumed) or the end; the workhorse of every form. */
  private until(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    let text = '';
    const words = new Words();
    while (this.peek() !== undefined) {
      const ch = this.peek() as string;
      if (stop !== undefined && ch === stop) {
        this.pos++;
        return { text, words: words.result() };
      }
      if (ch === "'" || ch === '"') {
        const part = ch === "'" ? this.singleQuoted() : this.doubleQuoted();
        text += part;
        words.addRaw(part);
        continue;
      }
      if (ch === '$') {
        const part = this.dollar();
        text += part;
        words.addExpanded(part);
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        if (rawEscapes) {
          text += ch;
          words.addRaw(ch);
        }
        const escaped = this.next();
        if (escaped === undefined) break; // an escape at the very end is dropped
        text += escaped;
        words.addRaw(escaped);
        continue;
      }
      text += ch;
      words.addChar(ch);
    }
    if (stop !== undefined) throw invalidArgument(`unexpected end of statement while looking for matching ${stop}`);
    return { text, words: words.result() };
  }

  private singleQuoted(): string {
    const raw = Boolean(this.opts.rawQuotes);
    let out = raw ? "'" : '';
    this.pos++;
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw invalidArgument('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return raw ? out + ch : out;
      out += ch;
    }
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
      this.pos++;
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
      this.pos++;
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
