import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withEngine } from '../engine.js';

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
      const tmp = `${opts.output}.kiln-tmp-${process.pid}`;
      const out = createWriteStream(tmp);
      await withEngine(cmd, (e) => e.save(images, out, { format }));
      await rename(tmp, opts.output);
    });
}
