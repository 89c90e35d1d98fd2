/**
 * Shell glob patterns (`*`, `?`, `[...]`, `\x`) as regular expressions, for
 * `${X#p}`, `${X%p}` and `${X/p/r}`.
 */
export interface GlobOptions {
  /** Match the whole string (for prefix/suffix trimming). */
  anchored?: boolean;
  /** `*` takes as much as it can (replacement); otherwise as little. */
  greedy?: boolean;
  flags?: string;
}

export function globToRegExp(pattern: string, opts: GlobOptions = {}): RegExp {
  const cps = Array.from(pattern);
  let re = '';
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === '\\' && i + 1 < cps.length) {
      re += escapeRe(cps[++i]);
    } else if (c === '*') {
      re += opts.greedy === false ? '.*?' : '.*';
    } else if (c === '?') {
      re += '.';
    } else if (c === '[') {
      const close = findClass(cps, i);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = cps.slice(i + 1, close);
      let negate = false;
      if (body[0] === '!' || body[0] === '^') {
        negate = true;
        body = body.slice(1);
      }
      re += '[' + (negate ? '^' : '') + body.map((b) => (b === '-' ? '-' : escapeClass(b))).join('') + ']';
      i = close;
    } else {
      re += escapeRe(c);
    }
  }
  return new RegExp(opts.anchored ? `^(?:${re})$` : re, opts.flags ?? 'u');
}

function findClass(cps: string[], open: number): number {
  let j = open + 1;
  if (cps[j] === '!' || cps[j] === '^') j++;
  if (cps[j] === ']') j++;
  for (; j < cps.length; j++) if (cps[j] === ']') return j;
  return -1;
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const escapeClass = (c: string) => c.replace(/[\]\\^[-]/g, '\\$&');
