/**
 * Docker's table layout: the CLI writes each row as tab-terminated cells
 * through a tabwriter (elastic tabstops) with a minimum cell width of 10,
 * padding 3 and spaces, so every column but the last is as wide as its
 * widest cell plus 3, and at least 10. The text after a line's last tab is
 * not part of a column and is not padded; a column is the run of adjacent
 * lines that have a cell in it. Widths count display columns: East Asian wide
 * and fullwidth characters take two. (`docker top` alone uses a minimum of 20.)
 */

export const MIN_WIDTH = 10;
export const PADDING = 3;

/** East Asian Wide (W) and Fullwidth (F) ranges of Unicode's EastAsianWidth, the ones terminals draw two columns wide. */
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x23e9, 0x23ec], [0x23f0, 0x23f0], [0x23f3, 0x23f3],
  [0x25fd, 0x25fe], [0x2614, 0x2615], [0x2648, 0x2653], [0x267f, 0x267f], [0x2693, 0x2693], [0x26a1, 0x26a1],
  [0x26aa, 0x26ab], [0x26bd, 0x26be], [0x26c4, 0x26c5], [0x26ce, 0x26ce], [0x26d4, 0x26d4], [0x26ea, 0x26ea],
  [0x26f2, 0x26f3], [0x26f5, 0x26f5], [0x26fa, 0x26fa], [0x26fd, 0x26fd], [0x2705, 0x2705], [0x270a, 0x270b],
  [0x2728, 0x2728], [0x274c, 0x274c], [0x274e, 0x274e], [0x2753, 0x2755], [0x2757, 0x2757], [0x2795, 0x2797],
  [0x27b0, 0x27b0], [0x27bf, 0x27bf], [0x2b1b, 0x2b1c], [0x2b50, 0x2b50], [0x2b55, 0x2b55], [0x2e80, 0x303e],
  [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff], [0x1b000, 0x1b2ff], [0x1f004, 0x1f004], [0x1f0cf, 0x1f0cf], [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a], [0x1f200, 0x1f251], [0x1f300, 0x1f64f], [0x1f680, 0x1f6ff], [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

/** How many columns a character takes on a terminal: 0 for combining marks and zero-width ones, 2 for wide ones, else 1. */
export function charWidth(cp: number): number {
  if (cp === 0x200b || (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0x200c && cp <= 0x200f)) return 0;
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return 2;
  }
  return 1;
}

/** Text below U+0300 (the first zero-width mark; the first wide character is U+1100): one column a character. */
const NARROW = /^[\0-\u02ff]*$/;

/** The display width of a string. */
export function displayWidth(s: string): number {
  if (NARROW.test(s)) return s.length;
  let w = 0;
  for (const ch of s) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/**
 * Lays out text whose lines hold tab-terminated cells, as docker's tabwriter
 * (minimum width 10, padding 3) does. The input's final newline, if any, ends
 * the output too.
 */
export function tabwrite(text: string, minWidth = MIN_WIDTH): string {
  const lines = text.split('\n').map((l) => l.split('\t'));
  const width = lines.map((cells) => cells.map(displayWidth));
  const out: string[][] = lines.map((cells) => [...cells]);
  const columns = Math.max(0, ...lines.map((c) => c.length - 1));
  for (let col = 0; col < columns; col++) {
    // A block: adjacent lines where `col` is a tab-terminated cell (not the line's trailing text).
    for (let i = 0; i < lines.length; ) {
      if (lines[i]!.length - 1 <= col) {
        i++;
        continue;
      }
      let j = i;
      let w = minWidth;
      while (j < lines.length && lines[j]!.length - 1 > col) w = Math.max(w, width[j]![col]! + PADDING), j++;
      for (let k = i; k < j; k++) out[k]![col] = out[k]![col]! + ' '.repeat(w - width[k]![col]!);
      i = j;
    }
  }
  return out.map((cells) => cells.join('')).join('\n');
}

/** A table as docker prints it: the header, then one line per row, cells in order (`docker top` uses a minimum width of 20). */
export function formatTable(headers: string[], rows: string[][], minWidth = MIN_WIDTH): string {
  return tabwrite([headers, ...rows].map((r) => r.join('\t') + '\n').join(''), minWidth);
}
