import type { Command } from 'commander';
import { parsePlatform } from '../../oci/platform.js';
import { withEngine } from '../engine.js';
import { createProgress } from '../progress.js';
import { pullReport } from '../pull-report.js';

export function register(program: Command): void {
  program
    .command('pull')
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'os/arch[/variant] to pull from a multi-platform image')
    .option('-q, --quiet', 'print only the image reference')
    .action(async (name: string, opts: { platform?: string; quiet?: boolean }, cmd: Command) => {
      const out = process.stdout;
      const report = pullReport(out);
      if (!opts.quiet) report.start(name, { defaultTag: true });
      const progress = createProgress(out, { quiet: opts.quiet });
      const result = await withEngine(cmd, (e) =>
        e.pull(name, { progress, ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) }),
      ).finally(() => progress.done());
      if (!opts.quiet) report.done(result);
      out.write(`${result.reference}\n`);
    });
}
