/**
 * BuildKit's build check UndefinedVar, found while a stage's instructions are
 * expanded (it needs the stage's environment: the base image's ENV, the
 * stage's ARGs and ENVs so far): every name an expansion looked up and did not
 * find, unless an ARG of the stage declares it (even without a value). RUN,
 * CMD and the like are not expanded by the frontend, so never reported, as in
 * BuildKit. The message and suggestion (a name at edit distance < 3) are BuildKit's.
 */
import { parseCheckDirective, type CheckWarning } from './checks.js';
import type { EnvGetter } from './shell/lex.js';

const URL = 'https://docs.docker.com/go/dockerfile/rule/undefined-var/';

/** A getter that records the names it did not find in `missing`. */
export function tracking(get: EnvGetter, missing: Set<string>): EnvGetter {
  return (name) => {
    const v = get(name);
    if (v === undefined) missing.add(name);
    return v;
  };
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest known name (edit distance below 3, case-sensitive as on Linux), or undefined. */
export function suggest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let min = 3;
  for (const k of known) {
    const d = distance(name, k);
    if (d < min) [best, min] = [k, d];
  }
  return best;
}

/** One warning per missing name not declared as an ARG, sorted by name. */
export function undefinedVarWarnings(missing: Set<string>, declared: (name: string) => boolean, known: string[], line: number): CheckWarning[] {
  return [...missing]
    .filter((n) => !declared(n))
    .sort()
    .map((n) => {
      const s = suggest(n, known);
      return { rule: 'UndefinedVar', message: `Usage of undefined variable '$${n}'${s ? ` (did you mean $${s}?)` : ''}`, url: URL, line };
    });
}

/** Whether the Dockerfile's `# check=` directive turns the rule off. */
export function skipsRule(check: string | undefined, rule: string): boolean {
  const { skip } = parseCheckDirective(check);
  return skip === 'all' || skip.has(rule);
}
