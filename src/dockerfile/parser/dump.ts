/** BuildKit's parse-tree dump: `(copy ["--user=me"] "foo" "/tmp/")`, one line per instruction. */
import type { Node, ParseResult } from './node.js';
import { goQuote } from './go-quote.js';

export function dumpNode(node: Node): string {
  let s = node.name;
  if (node.flags.length > 0) s += ` [${node.flags.map(goQuote).join(' ')}]`;
  for (const a of node.args) s += ' ' + goQuote(a);
  if (node.sub) s += ` (${dumpNode(node.sub)})`;
  return s.trim();
}

export function dump(result: ParseResult): string {
  return result.nodes.map((n) => `(${dumpNode(n)})\n`).join('');
}
