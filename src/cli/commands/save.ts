import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withEngine } from '../engine.js';
import { openOutput } from '../../user-files.js';

export function register(program: Command): void {
  program
    .command('save')
    .description('Save images to a tar archive that docker load accepts (or an OCI archive)')
    .argument('<image...>')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .option('--format <format>', 'docker (default) or oci', 'docker')
    .action(async (images: string[], opts: { output?: string; format: string }, cmd: Command) => {
      if (opts.format !== 'docker' && opts.format !== 'oci') throw invalidArgument(`unknown archive format "${opts.format}"`, { hint: 'use --format docker or --format oci' });
      const format = opts.format;
      if (!opts.output && process.stdout.isTTY) throw invalidArgument('refusing to write an archive to a terminal', { hint: 'use -o FILE or redirect standard output' });
      if (!opts.output) return withEngine(cmd, (e) => e.save(images, process.stdout, { format }));
      // Written beside the target and renamed, so a failed save leaves no half archive.
      const out = await openOutput(opts.output, 'save: output file');
      try {
        await withEngine(cmd, (e) => e.save(images, out.stream, { format }));
        await out.commit();
      } catch (e) {
        await out.abort();
        throw e;
      }
    });
}
