/** Go duration strings (`1m30s`, `500ms`, `0`) → nanoseconds, for HEALTHCHECK. */
const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseDuration(s: string): number | undefined {
  if (s === '0') return 0;
  // µ and μ escaped: a character past Latin-1 in a regular expression literal stays as it is in the bundle, and
  // makes V8 hold the packaged executable's whole main bundle as a two-byte string (1.5 MB instead of 0.75).
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNITS[m[2]];
    matched = re.lastIndex;
  }
  return matched === s.length && s.length > 0 ? Math.round(total) : undefined;
}
