import type { Command } from 'commander';
import { isKilnError, notFound } from '../../errors.js';
import { familiarString, parseReference } from '../../name/reference.js';
import { eachName } from '../each-name.js';
import { withEngine } from '../engine.js';

export function register(program: Command): void {
  program
    .command('rmi')
    .description('Remove one or more images')
    .argument('<image...>', 'names, IDs or unique ID prefixes')
    .option('-f, --force', 'remove an image even when several names refer to it')
    .action(async (images: string[], opts: { force?: boolean }, cmd: Command) => {
      // As docker: each image in turn, what was removed printed as it goes; one that fails does not stop the others.
      await withEngine(cmd, (e) =>
        eachName(cmd, images, async (image) => {
          const result = await e.removeImages([image], { force: opts.force }).catch((err: unknown) => {
            // The resolver's hint (pull it first) is not what someone removing an image wants.
            throw isKilnError(err, 'NOT_FOUND') ? notFound(err.message, { hint: 'list images with `kiln images`', cause: err }) : err;
          });
          for (const n of result.untagged) process.stdout.write(`Untagged: ${familiarString(parseReference(n))}\n`);
          for (const id of result.deleted) process.stdout.write(`Deleted: ${id}\n`);
        }),
      );
    });
}
