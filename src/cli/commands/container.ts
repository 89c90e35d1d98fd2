/** `kiln container prune`: Docker's `container` group, for what has no top-level command. */
import type { Command } from 'commander';
import { withContainers } from '../engine.js';
import { pruneContainers } from './containers/prune.js';
import { containerSizes, section, totalLine } from './prune-output.js';

export function register(program: Command): void {
  const container = program.command('container').description('Manage containers (prune; the others are the top-level run, ps, rm…)');
  container
    .command('prune')
    .description('Remove all stopped containers')
    .option('-f, --force', 'do not prompt (kiln never prompts; accepted for Docker compatibility)')
    .action(async (_o: unknown, cmd: Command) => {
      const sizes = await containerSizes(cmd);
      const removed = await withContainers(cmd, (c) => pruneContainers(c));
      const bytes = removed.reduce((n, id) => n + (sizes.get(id) ?? 0), 0);
      process.stdout.write(section('Deleted Containers:', removed) + totalLine(bytes));
    });
}
