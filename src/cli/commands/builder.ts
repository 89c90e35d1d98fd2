/** `kiln builder prune [-a]`: the build cache (step records and cache mounts), as `docker builder prune`. */
import type { Command } from 'commander';
import { failedPrecondition } from '../../errors.js';
import { withEngine } from '../engine.js';
import { section, totalLine } from './prune-output.js';

export function register(program: Command): void {
  const builder = program.command('builder').description('Manage the build cache');
  builder
    .command('prune')
    .description('Remove the build cache entries no image uses (all of it with -a)')
    .option('-a, --all', 'remove all build cache, not just the dangling entries')
    .option('-f, --force', 'do not prompt (kiln never prompts; accepted for Docker compatibility)')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const r = await withEngine(cmd, async (e) => {
        if (!e.pruneBuildCache) throw failedPrecondition(`the ${(await e.info()).backend} backend has no build cache kiln can prune`, { hint: 'use --backend local' });
        return e.pruneBuildCache({ all: opts.all });
      });
      process.stdout.write(section('Deleted build cache objects:', r.removed) + totalLine(r.bytesFreed));
    });
}
