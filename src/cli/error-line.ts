/** How kiln prints an error: `kiln: MESSAGE (HINT)` on one line; the stack and its cause only with --debug. */
import { isKilnError } from '../errors.js';

export function errorLine(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return e.stack + (e.cause ? `\ncaused by: ${String((e.cause as Error).stack ?? e.cause)}` : '');
  if (isKilnError(e)) return `kiln: ${e.message}${e.hint ? ` (${e.hint})` : ''}`;
  if (e instanceof Error) return `kiln: ${e.message}`;
  return `kiln: ${String(e)}`;
}
