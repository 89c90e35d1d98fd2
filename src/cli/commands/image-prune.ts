/** `kiln image prune [-a]`: dangling images (every image no container uses with -a), as `docker image prune`. */
import type { Command } from 'commander';
import { failedPrecondition } from '../../errors.js';
import { withEngine } from '../engine.js';
import { section, totalLine } from './prune-output.js';

export function register(image: Command): void {
  image
    .command('prune')
    .description('Remove images without a name that no container uses (every unused image with -a)')
    .option('-a, --all', 'remove all images no container uses, not just the dangling ones')
    .option('-f, --force', 'do not prompt (kiln never prompts; accepted for Docker compatibility)')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const r = await withEngine(cmd, async (e) => {
        if (!e.pruneImages) throw failedPrecondition(`image prune is not available on the ${(await e.info()).backend} backend`, { hint: 'remove images by name with kiln rmi' });
        return e.pruneImages({ all: opts.all });
      });
      process.stdout.write(section('Deleted Images:', r.deletedImages.map((id) => `deleted: ${id}`)) + totalLine(r.bytesFreed));
    });
}
