import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { openOutput } from '../../user-files.js';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('export')
    .description("Export a running container's filesystem as a tar archive")
    .argument('<container>', 'name or ID')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .action(async (ref: string, opts: { output?: string }, cmd: Command) => {
      if (!opts.output && process.stdout.isTTY) throw invalidArgument('refusing to write an archive to a terminal', { hint: 'use -o FILE or redirect standard output' });
      if (!opts.output) return withContainers(cmd, (c) => c.exportContainer(ref, process.stdout));
      // Written beside the target and renamed, so a failed export leaves no half archive.
      const out = await openOutput(opts.output, 'export: output file');
      try {
        await withContainers(cmd, (c) => c.exportContainer(ref, out.stream));
        await out.commit();
      } catch (e) {
        await out.abort();
        throw e;
      }
    });
}
