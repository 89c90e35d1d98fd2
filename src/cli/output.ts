/** Printing helpers: tables for people, JSON for programs. Commands return data; these print it. */

export function printJSON(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Left-aligned columns separated by three spaces, like docker's tables. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function printTable(headers: string[], rows: string[][]): void {
  process.stdout.write(formatTable(headers, rows));
}

/** Docker's human sizes: 4.26MB, 1.2GB (powers of 1000). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : Number(v.toPrecision(3))}${units[i]}`;
}

/** Docker's "2 hours ago" style. */
export function humanAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const steps: [number, string][] = [
    [60 * 60 * 24 * 365, 'year'],
    [60 * 60 * 24 * 30, 'month'],
    [60 * 60 * 24 * 7, 'week'],
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'minute'],
  ];
  for (const [unit, name] of steps) {
    const n = Math.floor(s / unit);
    if (n >= 1) return `${n} ${name}${n > 1 ? 's' : ''} ago`;
  }
  return s < 2 ? 'Less than a second ago' : `${s} seconds ago`;
}

/**
 * A `--format` template over rows (docker's rules): `table TEMPLATE` prints a
 * header (the template over `headers`, field name → column title) and aligns
 * the tab-separated columns; any other template prints one line per row.
 */
export async function printFormatted(format: string, rows: object[], headers: Record<string, string>): Promise<void> {
  const { compileTemplate } = await import('./template.js');
  const table = /^table(\s|$)/.test(format);
  const fields = new Set([...Object.keys(headers), ...rows.flatMap((r) => Object.keys(r))]);
  const render = compileTemplate(table ? format.replace(/^table\s*/, '') || Object.keys(headers).map((k) => `{{.${k}}}`).join('\t') : format, { fields });
  const header = render(headers); // also checks the fields when there are no rows
  const lines = rows.map((r) => render(r));
  if (!table) {
    process.stdout.write(lines.map((l) => l + '\n').join(''));
    return;
  }
  const [head, ...body] = [header, ...lines].map((l) => l.split('\t'));
  process.stdout.write(formatTable(head!, body));
}
