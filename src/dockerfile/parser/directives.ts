/**
 * Parser directives (`# syntax=`, `# escape=`, `# check=`): only at the very
 * top, before any comment, blank line or instruction; each at most once.
 */
import type { Directives } from './node.js';

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN = new Set(['syntax', 'escape', 'check']);

export class DirectiveError extends Error {}

export class DirectiveReader {
  readonly directives: Directives = { escape: '\\' };
  private done = false;
  private readonly seen = new Set<string>();

  /** Feeds one (left-trimmed) line while directives may still appear. */
  read(line: string): void {
    if (this.done) return;
    const m = DIRECTIVE.exec(line);
    const key = m?.[1].toLowerCase();
    if (!m || !key || !KNOWN.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new DirectiveError(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    const value = m[2];
    if (key === 'escape') {
      if (value !== '\\' && value !== '`') throw new DirectiveError(`invalid escape token '${value}' does not match \` or \\`);
      this.directives.escape = value;
    } else if (key === 'syntax') this.directives.syntax = value;
    else this.directives.check = value;
  }
}
