/** WWW-Authenticate parsing (RFC 7235): `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */

export interface Challenge {
  /** lower case: `basic`, `bearer`, … */
  scheme: string;
  params: Record<string, string>;
}

/** Parses every challenge in the header; parameter names are lower-cased. */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const out: Challenge[] = [];
  if (!header) return out;
  const re = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*)))?\s*,?/gy;
  let current: Challenge | undefined;
  let m: RegExpExecArray | null;
  while (re.lastIndex < header.length && (m = re.exec(header)) !== null) {
    if (m[0] === '') break;
    const [, token, quoted, bare] = m;
    if (quoted === undefined && bare === undefined) {
      // a new scheme; it may be directly followed by its first parameter
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    if (current) current.params[token.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare!;
  }
  return out;
}

/** The challenge kiln should answer: Bearer over Basic, undefined if none. */
export function pickChallenge(header: string | null | undefined): Challenge | undefined {
  const all = parseChallenges(header);
  return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
}
