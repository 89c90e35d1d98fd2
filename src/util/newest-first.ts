/**
 * Sort order for records by their creation time (RFC 3339 strings), newest
 * first, without String.prototype.localeCompare: its first call builds ICU's
 * collator, 10-25 ms of a short-lived CLI's life (`kiln ps -a`, `kiln images`),
 * and timestamps need no collation. Times that parse compare as times (so
 * "…:00Z" and "…:00.5Z" are in order); ties and unparsable or missing times
 * compare as strings, missing ones last.
 */
export function newestFirst(a: string | undefined, b: string | undefined): number {
  const ta = Date.parse(a ?? '');
  const tb = Date.parse(b ?? '');
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return tb - ta;
  const sa = a ?? '';
  const sb = b ?? '';
  return sa < sb ? 1 : sa > sb ? -1 : 0;
}
