/**
 * Dockerfile text → instruction nodes with line ranges, as BuildKit parses
 * it: a BOM and CRLF are accepted, directives are read at the top, comments
 * and blank lines inside continuations are skipped, heredoc bodies follow
 * their instruction. No meaning is given to instructions here.
 */
import { isKilnError } from '../../errors.js';
import { DockerfileError } from '../located-error.js';
import { ArgumentError, parseArguments } from './arguments.js';
import { DirectiveError, DirectiveReader } from './directives.js';
import { canContainHeredoc, heredocsFromLine } from './heredoc.js';
import type { Heredoc, Node, ParseResult, ParseWarning } from './node.js';
import { extractFlags, splitOnce, trimSpace } from './split.js';

export interface ParseOptions {
  /** Name used in error messages (default `Dockerfile`). */
  file?: string;
}

/** Parses a Dockerfile; throws DockerfileError (INVALID_ARGUMENT) with FILE:LINE. */
export function parseDockerfile(text: string, opts: ParseOptions = {}): ParseResult {
  const file = opts.file ?? 'Dockerfile';
  const lines = toLines(text);
  const reader = new DirectiveReader();
  const nodes: Node[] = [];
  const warnings: ParseWarning[] = [];
  const at = (line: number, source: string) => ({ file, line, source });

  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    const first = trimNewline(lines[i++]).replace(LEADING_BLANKS, '');
    directive(reader, first, at(startLine, first));
    const escape = reader.directives.escape;
    let [line, done] = trimContinuation(stripComment(first), escape);
    if (done && line === '') continue;
    let emptyContinuation = false;
    while (!done && i < lines.length) {
      const raw = trimNewline(lines[i++]);
      directive(reader, raw, at(i, raw));
      const trimmed = raw.replace(LEADING_BLANKS, '');
      if (trimmed.startsWith('#')) continue;
      if (trimmed === '') {
        emptyContinuation = true;
        continue;
      }
      let more: string;
      [more, done] = trimContinuation(raw, escape);
      line += more;
    }
    if (emptyContinuation) warnings.push({ line: startLine, message: 'empty continuation line' });
    const node = nodeFromLine(line, escape, { file, line: startLine, source: line });
    node.startLine = startLine;
    node.firstLine = trimNewline(lines[startLine - 1]);
    if (node.sub) node.sub.firstLine = node.firstLine;
    const target = node.sub ?? node;
    if (canContainHeredoc(target.name, target.json) && line.includes('<<')) {
      for (const start of heredocNames(line, at(startLine, line))) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const raw = lines[i++];
          let candidate = trimNewline(raw);
          if (start.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === start.name) {
            terminated = true;
            break;
          }
          content += start.chomp ? raw.replace(/^\t+/, '') : raw;
        }
        if (!terminated) {
          throw new DockerfileError(at(startLine, line), `unterminated heredoc: no line "${start.name}" closes it`, {
            hint: `end the heredoc with a line holding only ${start.name}`,
          });
        }
        target.heredocs.push({ ...start, content });
      }
    }
    node.endLine = i;
    if (node.sub) node.sub.endLine = i;
    nodes.push(node);
  }
  if (nodes.length === 0) {
    throw new DockerfileError({ file, line: Math.max(lines.length, 1) }, 'file with no instructions', {
      hint: 'a Dockerfile needs at least a FROM instruction',
    });
  }
  return { file, nodes, directives: { ...reader.directives }, warnings };
}

/** One instruction line (continuations joined) → a node; ONBUILD nests. */
function nodeFromLine(line: string, escape: string, loc: { file: string; line: number; source: string }): Node {
  const parts = splitOnce(trimSpace(line));
  const name = parts[0].toLowerCase();
  const { rest, flags } = parts.length === 2 ? extractFlags(parts[1]) : { rest: '', flags: [] };
  let parsed;
  try {
    parsed = parseArguments(name, rest, escape);
  } catch (e) {
    if (e instanceof ArgumentError) throw new DockerfileError(loc, `${parts[0].toUpperCase()}: ${e.message}`, { cause: e });
    throw e;
  }
  const node: Node = {
    name,
    original: line,
    firstLine: line,
    flags,
    args: parsed.args,
    json: parsed.json,
    heredocs: [] as Heredoc[],
    startLine: loc.line,
    endLine: loc.line,
  };
  if (parsed.subcommand !== undefined) node.sub = nodeFromLine(parsed.subcommand, escape, loc);
  return node;
}

function heredocNames(line: string, loc: { file: string; line: number; source: string }) {
  try {
    return heredocsFromLine(line);
  } catch (e) {
    if (isKilnError(e, 'INVALID_ARGUMENT')) throw new DockerfileError(loc, `bad heredoc name: ${e.message}`, { cause: e });
    throw e;
  }
}

function directive(reader: DirectiveReader, line: string, loc: { file: string; line: number; source: string }): void {
  try {
    reader.read(line);
  } catch (e) {
    if (e instanceof DirectiveError) throw new DockerfileError(loc, e.message, { cause: e });
    throw e;
  }
}

const LEADING_BLANKS = /^\p{White_Space}+/u;

/** Lines with their newline kept (heredoc bodies need it). */
function toLines(text: string): string[] {
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines: string[] = [];
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\n' || s[end - 1] === '\r')) end--;
  return s.slice(0, end);
}

const stripComment = (s: string): string => (s.startsWith('#') ? '' : s);

/**
 * Removes a trailing escape (plus blanks); `done` is false when the line
 * continues. As in BuildKit, only an escape that is not itself escaped
 * continues the line: `\\` at the end is a literal backslash, `\\\` continues.
 */
function trimContinuation(s: string, escape: string): [string, boolean] {
  let end = s.length;
  while (end > 0 && (s[end - 1] === ' ' || s[end - 1] === '\t')) end--;
  let run = 0;
  while (end - run > 0 && s[end - run - 1] === escape) run++;
  if (run % 2 === 1) return [s.slice(0, end - 1), false];
  return [s, true];
}
