import type { Command } from 'commander';
import { familiarString, parseReference } from '../../name/reference.js';
import { withEngine } from '../engine.js';

export function register(program: Command): void {
  program
    .command('rmi')
    .description('Remove one or more images')
    .argument('<image...>', 'names, IDs or unique ID prefixes')
    .option('-f, --force', 'remove an image even when several names refer to it')
    .action(async (images: string[], opts: { force?: boolean }, cmd: Command) => {
      const result = await withEngine(cmd, (e) => e.removeImages(images, { force: opts.force }));
      for (const n of result.untagged) process.stdout.write(`Untagged: ${familiarString(parseReference(n))}\n`);
      for (const id of result.deleted) process.stdout.write(`Deleted: ${id}\n`);
    });
}
