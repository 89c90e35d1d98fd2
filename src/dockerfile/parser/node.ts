/** The parser's output: untyped instruction nodes with line ranges. */

export interface Heredoc {
  /** The delimiter word, quotes removed. */
  name: string;
  /** The body, each line with its newline; leading tabs removed for `<<-`. */
  content: string;
  /** False when the delimiter was quoted (`<<"EOF"`): no variable expansion. */
  expand: boolean;
  /** `<<-EOF`: leading tabs are stripped from the body and the delimiter. */
  chomp: boolean;
  /** `3<<EOF` in RUN: the file descriptor; 0 when not given. */
  fd: number;
}

export interface Node {
  /** Instruction name in lower case (`run`), as written otherwise in `original`. */
  name: string;
  /** The instruction with continuations joined (comments and blank lines dropped). */
  original: string;
  /** The instruction's first physical line as written, for error columns. */
  firstLine: string;
  /** `--x=y` words before the arguments, as written (quotes removed). */
  flags: string[];
  /** Arguments, split as the instruction's syntax says. */
  args: string[];
  /** ONBUILD: the nested instruction. */
  sub?: Node;
  /** Arguments were a JSON array (exec form). */
  json: boolean;
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
}

export interface Directives {
  escape: string;
  syntax?: string;
  check?: string;
}

export interface ParseWarning {
  line: number;
  message: string;
}

export interface ParseResult {
  file: string;
  nodes: Node[];
  directives: Directives;
  warnings: ParseWarning[];
}
