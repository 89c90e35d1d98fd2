import type { Command } from 'commander';
import { withEngine } from '../engine.js';
import { humanAge, humanSize, printJSON, printTable } from '../output.js';

export function register(program: Command): void {
  program
    .command('history')
    .description('Show the history of an image')
    .argument('<image>')
    .option('--no-trunc', 'do not truncate output')
    .option('-q, --quiet', 'only image IDs')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (image: string, opts: { trunc: boolean; quiet?: boolean; format?: string }, cmd: Command) => {
      const rows = await withEngine(cmd, (e) => e.history(image));
      if (opts.format === 'json') return printJSON(rows);
      const id = (s: string) => (s.startsWith('sha256:') && opts.trunc ? s.slice(7, 19) : s);
      if (opts.quiet) return void process.stdout.write(rows.map((r) => id(r.id) + '\n').join(''));
      const by = (s: string) => (opts.trunc && s.length > 45 ? s.slice(0, 44) + '…' : s);
      printTable(
        ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
        rows.map((r) => [id(r.id), humanAge(r.created), by(r.createdBy), humanSize(r.size), r.comment]),
      );
    });
}
