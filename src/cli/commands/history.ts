import type { Command } from 'commander';
import { withEngine } from '../engine.js';
import { humanAge, humanSize, printFormatted, printJSON, printTable } from '../output.js';

/** The fields `--format` templates see, with docker's column titles. */
const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function register(program: Command): void {
  program
    .command('history')
    .description('Show the history of an image')
    .argument('<image>')
    .option('--no-trunc', 'do not truncate output')
    .option('-q, --quiet', 'only image IDs')
    .option('--format <format>', 'json, or a Go template: "{{.ID}} {{.CreatedBy}}", "table {{.CreatedBy}}\\t{{.Size}}"')
    .action(async (image: string, opts: { trunc: boolean; quiet?: boolean; format?: string }, cmd: Command) => {
      const rows = await withEngine(cmd, (e) => e.history(image));
      if (opts.format === 'json') return printJSON(rows);
      const id = (s: string) => (s.startsWith('sha256:') && opts.trunc ? s.slice(7, 19) : s);
      if (opts.quiet) return void process.stdout.write(rows.map((r) => id(r.id) + '\n').join(''));
      const by = (s: string) => (opts.trunc && s.length > 45 ? s.slice(0, 44) + '…' : s);
      // As docker: a template sees the whole CREATED BY unless the table truncates it.
      const fields = (r: (typeof rows)[number]) => ({ ID: id(r.id), CreatedSince: humanAge(r.created), CreatedAt: r.created ?? '', CreatedBy: r.createdBy, Size: humanSize(r.size), Comment: r.comment });
      if (opts.format !== undefined) return printFormatted(opts.format, rows.map(fields), HEADERS);
      printTable(
        ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
        rows.map((r) => [id(r.id), humanAge(r.created), by(r.createdBy), humanSize(r.size), r.comment]),
      );
    });
}
