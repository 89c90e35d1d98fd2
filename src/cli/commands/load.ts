import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { familiarString, parseReference } from '../../name/reference.js';
import { withEngine } from '../engine.js';
import { openInput } from '../../user-files.js';

export function register(program: Command): void {
  program
    .command('load')
    .description('Load images from a docker or OCI archive (file or standard input)')
    .option('-i, --input <file>', 'read from a file instead of standard input')
    .option('-q, --quiet', 'suppress output')
    .action(async (opts: { input?: string; quiet?: boolean }, cmd: Command) => {
      if (!opts.input && process.stdin.isTTY) throw invalidArgument('no archive given', { hint: 'use -i FILE or pipe an archive to standard input' });
      const input = opts.input ? await openInput(opts.input, 'load: archive') : process.stdin;
      const loaded = await withEngine(cmd, (e) => e.load(input));
      if (opts.quiet) return;
      for (const l of loaded) {
        process.stdout.write(l.name ? `Loaded image: ${familiarString(parseReference(l.name))}\n` : `Loaded image ID: ${l.id}\n`);
      }
    });
}
