/** Collects the words of an expansion: blanks split, quoted parts never do. */

/** Go's unicode.IsSpace: the Unicode White_Space property. */
export const isSpace = (c: string): boolean => /^\p{White_Space}$/u.test(c);

export class Words {
  private readonly words: string[] = [];
  private word = '';
  private inWord = false;

  /** A literal, unquoted character: blanks end the current word. */
  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.word.length > 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
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
    this.word += s;
    this.inWord = true;
  }

  result(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}
