/** Printing helpers: tables for people, JSON for programs. Commands return data; these print it. */
import { dockerSize, humanDuration } from './docker-units.js';
import { formatTable } from './tabwriter.js';

export function printJSON(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export { formatTable };

export function printTable(headers: string[], rows: string[][], minWidth?: number): void {
  process.stdout.write(formatTable(headers, rows, minWidth));
}

/** Docker's human sizes: 4.26MB, 1.2GB (powers of 1000; 3 significant digits as `docker images`, 4 as `system df` and prune totals). */
export function humanSize(bytes: number, precision = 3): string {
  return dockerSize(bytes, precision);
}

/** Docker's "About a minute ago", "2 hours ago" (go-units HumanDuration); N/A when the time is not known. */
export function humanAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  return `${humanDuration(now - t)} ago`;
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
