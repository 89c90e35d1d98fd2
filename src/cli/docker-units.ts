/**
 * The words and numbers docker's CLI prints (its go-units package and
 * formatter, read for their rules): sizes in powers of 1000 with Go's %g
 * (3 significant digits in `images`, 4 in `system df`), durations as
 * "About a minute" / "2 hours" / "3 weeks", commands ellipsized to 20
 * characters and quoted as Go quotes strings.
 */
import { displayWidth, charWidth } from './tabwriter.js';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's %.{precision}g: shortest of fixed or exponent form, trailing zeros removed, exponent at least two digits. */
export function goG(v: number, precision: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(precision)))));
  if (exp < -4 || exp >= precision) {
    const [mant, e] = v.toExponential(precision - 1).split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = v.toFixed(Math.max(0, precision - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** go-units HumanSizeWithPrecision: 1000-based, "4.26MB", "999B", "1e+03kB" for 999,999 bytes as docker prints it. */
export function dockerSize(bytes: number, precision = 3): string {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${goG(v, precision)}${UNITS[i]}`;
}

/** go-units HumanDuration of a span in milliseconds: "Less than a second", "1 second", "About a minute", "2 hours", "3 weeks", "13 months", "2 years". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  // Hours round to the nearest hour (half away from zero), as Go's Duration.Round does.
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** docker's Ellipsis: at most `max` display columns, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const chars = [...s];
  if (max === 1) return chars[0] ?? '';
  if (displayWidth(s) <= max) return s;
  let w = 0;
  let out = '';
  for (const ch of chars) {
    const cw = charWidth(ch.codePointAt(0)!);
    if (w + cw > max - 1) break;
    w += cw;
    out += ch;
  }
  return out + '…';
}

const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' };

/** Go's strconv.Quote for the text docker shows: printable characters as they are, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfeff || (cp >= 0x2028 && cp <= 0x2029)) out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}
