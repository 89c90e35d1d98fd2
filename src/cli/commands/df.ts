/**
 * `kiln system df [-v] [--format]`: Docker's table (TYPE, TOTAL, ACTIVE,
 * SIZE, RECLAIMABLE; the percentage as Docker computes it, none for the build
 * cache), its template fields (.Type .TotalCount .Active .Size .Reclaimable),
 * and with -v one table per kind.
 */
import type { Command } from 'commander';
import { failedPrecondition } from '../../errors.js';
import type { DiskUsage, DiskUsageItem, DiskUsageRow } from '../../engine/engine.js';
import { withEngine } from '../engine.js';
import { humanAge, humanSize, printFormatted, printJSON, printTable } from '../output.js';
import { familiarString, parseReference } from '../../name/reference.js';

const HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };

/** Docker's "11.63MB (70%)": the share in whole percent, only when there is something (the build cache: the size alone). */
function reclaimable(r: DiskUsageRow): string {
  if (r.type === 'Build Cache' || r.size === 0) return humanSize(r.reclaimable, 4);
  return `${humanSize(r.reclaimable, 4)} (${Math.floor((r.reclaimable * 100) / r.size)}%)`;
}

export const dfRows = (u: DiskUsage) =>
  u.rows.map((r) => ({ Type: r.type, TotalCount: String(r.total), Active: String(r.active), Size: humanSize(r.size, 4), Reclaimable: reclaimable(r) }));

const VERBOSE: [DiskUsageItem['type'], string, string[], (i: DiskUsageItem) => string[]][] = [
  ['Images', 'Images space usage:', ['REPOSITORY:TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'CONTAINERS'], (i) => [i.names.map((n) => familiarString(parseReference(n))).join(', ') || '<none>:<none>', i.id.slice(7, 19), humanAge(i.created), humanSize(i.size), i.active ? 'yes' : 'no']],
  ['Containers', 'Containers space usage:', ['CONTAINER ID', 'NAMES', 'SIZE', 'CREATED', 'RUNNING'], (i) => [i.id.slice(0, 12), i.names.join(', '), humanSize(i.size), humanAge(i.created), i.active ? 'yes' : 'no']],
  ['Local Volumes', 'Local Volumes space usage:', ['VOLUME NAME', 'SIZE', 'IN USE'], (i) => [i.id, humanSize(i.size), i.active ? 'yes' : 'no']],
  ['Build Cache', 'Build cache usage:', ['CACHE ID', 'SIZE', 'CREATED'], (i) => [i.id.startsWith('mount:') ? i.id : i.id.slice(0, 12), humanSize(i.size), humanAge(i.created)]],
];

export function dfCommand(system: Command): void {
  system
    .command('df')
    .description('Show disk usage: images, containers, local volumes and build cache, and what a prune gives back')
    .option('-v, --verbose', 'show what each row is made of')
    .option('--format <format>', 'json, or a Go template: "{{.Type}} {{.Size}}", "table {{.Type}}\\t{{.Reclaimable}}"')
    .action(async (opts: { verbose?: boolean; format?: string }, cmd: Command) => {
      const usage = await withEngine(cmd, async (e) => {
        if (!e.diskUsage) throw failedPrecondition(`system df is not available on the ${(await e.info()).backend} backend`, { hint: 'use kiln system info for what the store holds' });
        return e.diskUsage();
      });
      if (opts.format === 'json') return printJSON(usage);
      if (opts.format !== undefined) return printFormatted(opts.format, dfRows(usage), HEADERS);
      if (!opts.verbose) return printTable(Object.values(HEADERS), dfRows(usage).map((r) => Object.values(r)));
      for (const [type, title, headers, row] of VERBOSE) {
        process.stdout.write(`${type === 'Images' ? '' : '\n'}${title}\n`);
        printTable(headers, usage.items.filter((i) => i.type === type).map(row));
      }
    });
}
