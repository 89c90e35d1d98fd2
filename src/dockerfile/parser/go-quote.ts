/** Go's strconv.Quote, for dumps that compare byte for byte with BuildKit's. */
const NAMED: Record<string, string> = {
  '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\',
};
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const named = NAMED[ch];
    if (named) out += named;
    else if (PRINTABLE.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2);
      else if (cp < 0x10000) out += '\\u' + hex(cp, 4);
      else out += '\\U' + hex(cp, 8);
    }
  }
  return out + '"';
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
