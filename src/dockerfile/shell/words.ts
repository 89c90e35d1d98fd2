/** Collects the words of an expansion: blanks split, quoted parts never do. */

/** Go's unicode.IsSpace: the Unicode White_Space property. */
export const isSpace = (c: string): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f' || (c > '\x7f' && /^\p{White_Space}$/u.test(c));

export interface WordSink {
  addChar(ch: string): void;
  addExpanded(s: string): void;
  addRaw(s: string): void;
  result(): string[];
}

/** For the single-word form, where nobody reads the words. */
export const NO_WORDS: WordSink = { addChar() {}, addExpanded() {}, addRaw() {}, result: () => [] };

export class Words implements WordSink {
  private readonly words: string[] = [];
  private word = '';
  private inWord = false;

  constructor(private readonly keep: (word: string) => boolean = () => true) {}

  private flush(): void {
    if (this.keep(this.word)) this.words.push(this.word);
    this.word = '';
    this.inWord = false;
  }

  /** A literal, unquoted character: blanks end the current word. */
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) this.flush();
      return;
    }
    this.addRaw(ch);
  }

  /** Text from an unquoted `$VAR`: split on its blanks too. */
  addExpanded(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  /** Quoted or escaped text: never split. */
  addRaw(s: string): void {
    this.word = this.word === '' ? s : this.word + s;
    this.inWord = true;
  }

  result(): string[] {
    if (this.word.length > 0) this.flush();
    return this.words;
  }
}
