/**
 * The one error the Dockerfile frontend throws: INVALID_ARGUMENT with the
 * file, line (and column when known) and the offending source line quoted,
 * so every message reads `Dockerfile:7: what is wrong: `the line``.
 */
import { KilnError } from '../errors.js';

export interface SourceLocation {
  file: string;
  /** 1-based line of the instruction (its first line when continued). */
  line: number;
  column?: number;
  /** The instruction's text, quoted in the message (shortened when long). */
  source?: string;
}

export class DockerfileError extends KilnError {
  readonly file: string;
  readonly line: number;
  readonly column?: number;

  constructor(loc: SourceLocation, what: string, opts: { hint?: string; cause?: unknown } = {}) {
    const where = `${loc.file}:${loc.line}${loc.column ? `:${loc.column}` : ''}`;
    const quoted = loc.source === undefined ? '' : `: \`${shorten(loc.source)}\``;
    super('INVALID_ARGUMENT', `${where}: ${what}${quoted}`, {
      hint: opts.hint ?? 'see https://docs.docker.com/reference/dockerfile/',
      cause: opts.cause,
    });
    this.name = 'DockerfileError';
    this.file = loc.file;
    this.line = loc.line;
    this.column = loc.column;
  }
}

/** Where an instruction sits, as the instruction layer records it. */
export interface InstructionSpan {
  file: string;
  startLine: number;
  /** The instruction, continuations joined. */
  original: string;
  /** Its first physical line, as written (for columns). */
  firstLine: string;
}

/** The location of an instruction; with `needle`, the column where that text starts on its first line. */
export function spanLocation(span: InstructionSpan, needle?: string): SourceLocation {
  const idx = needle ? span.firstLine.indexOf(needle) : -1;
  return { file: span.file, line: span.startLine, source: span.original, column: idx >= 0 ? idx + 1 : undefined };
}

export function isDockerfileError(e: unknown): e is DockerfileError {
  return e instanceof DockerfileError;
}

function shorten(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > 100 ? one.slice(0, 97) + '...' : one;
}
