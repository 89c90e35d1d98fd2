/**
 * BuildKit's build checks (Dockerfile lint rules), with BuildKit's rule names,
 * messages and URLs: FromAsCasing, JSONArgsRecommended, MaintainerDeprecated,
 * NoEmptyContinuation. `# check=skip=Rule1,Rule2` (or `skip=all`) turns rules
 * off; `# check=error=true` makes a warning fail the build.
 */
import { parseDockerfile } from './parser/parse.js';
import type { Node } from './parser/node.js';

export interface CheckWarning {
  rule: string;
  message: string;
  url: string;
  /** 1-based line of the instruction in the Dockerfile. */
  line: number;
}

export interface CheckResult {
  warnings: CheckWarning[];
  /** `# check=error=true`: warnings are errors. */
  error: boolean;
  /** The Dockerfile's lines, for showing the source of a warning. */
  lines: string[];
}

const url = (slug: string) => `https://docs.docker.com/go/dockerfile/rule/${slug}/`;

const isUpper = (s: string) => s === s.toUpperCase();
const keyword = (n: Node) => n.original.trimStart().split(/\s+/, 1)[0] ?? n.name;

/** `skip=A,B;error=true` → what the directive asks. */
export function parseCheckDirective(value: string | undefined): { skip: Set<string> | 'all'; error: boolean } {
  let skip: Set<string> | 'all' = new Set();
  let error = false;
  for (const part of (value ?? '').split(';')) {
    const [k, v = ''] = part.split('=', 2).map((x) => x.trim()) as [string, string?];
    if (k === 'skip') skip = v === 'all' ? 'all' : new Set(v.split(',').map((r) => r.trim()).filter(Boolean));
    else if (k === 'error') error = v === 'true';
  }
  return { skip, error };
}

function lint(nodes: Node[], emptyContinuations: number[]): CheckWarning[] {
  const out: CheckWarning[] = [];
  const shellStages = new Set<string>();
  let stageHasShell = false;
  let stageName: string | undefined;
  for (const n of nodes) {
    if (n.name === 'from') {
      const [, as, name] = n.args;
      const base = n.args[0]?.toLowerCase() ?? '';
      stageHasShell = shellStages.has(base);
      stageName = name?.toLowerCase();
      if (as !== undefined && as.toLowerCase() === 'as' && isUpper(keyword(n)) !== isUpper(as)) {
        out.push({ rule: 'FromAsCasing', message: `'${as}' and '${keyword(n)}' keywords' casing do not match`, url: url('from-as-casing'), line: n.startLine });
      }
      continue;
    }
    if (n.name === 'shell') {
      stageHasShell = true;
      if (stageName) shellStages.add(stageName);
    }
    if ((n.name === 'cmd' || n.name === 'entrypoint') && !n.json && !stageHasShell) {
      out.push({ rule: 'JSONArgsRecommended', message: `JSON arguments recommended for ${n.name.toUpperCase()} to prevent unintended behavior related to OS signals`, url: url('json-args-recommended'), line: n.startLine });
    }
    if (n.name === 'maintainer') {
      out.push({ rule: 'MaintainerDeprecated', message: 'Maintainer instruction is deprecated in favor of using label', url: url('maintainer-deprecated'), line: n.startLine });
    }
  }
  for (const line of emptyContinuations) out.push({ rule: 'NoEmptyContinuation', message: 'Empty continuation line', url: url('no-empty-continuation'), line });
  return out.sort((a, b) => a.line - b.line);
}

/** The checks of a Dockerfile's text, as its `# check=` directive filters them. */
export function checkDockerfile(text: string, file = 'Dockerfile'): CheckResult {
  const parsed = parseDockerfile(text, { file });
  const { skip, error } = parseCheckDirective(parsed.directives.check);
  const empty = parsed.warnings.filter((w) => /empty continuation/i.test(w.message)).map((w) => w.line);
  const warnings = skip === 'all' ? [] : lint(parsed.nodes, empty).filter((w) => !skip.has(w.rule));
  return { warnings, error, lines: text.split(/\r?\n/) };
}

/** One line per warning, as buildx sums them up after a build: `Rule: message (line N)`. */
export const warningLine = (w: CheckWarning): string => `${w.rule}: ${w.message} (line ${w.line})`;

/** `kiln build --check`'s report, laid out as buildx's. */
export function formatCheckReport(r: CheckResult, file: string): string {
  if (r.warnings.length === 0) return 'Check complete, no warnings found.\n';
  const count = r.warnings.length === 1 ? '1 warning has been found!' : `${r.warnings.length} warnings have been found!`;
  const parts = [`Check complete, ${count}\n`];
  for (const w of r.warnings) {
    const src = r.lines[w.line - 1] ?? '';
    parts.push(`WARN: ${w.rule} - ${w.url}\n${w.message}\n${file}:${w.line}\n--------------------\n${String(w.line).padStart(4)} | >>> ${src}\n--------------------\n`);
  }
  return parts.join('\n');
}
