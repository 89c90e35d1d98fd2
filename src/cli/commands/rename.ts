import type { Command } from 'commander';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('rename')
    .description('Rename a container')
    .argument('<container>', 'name or ID')
    .argument('<new-name>', 'the new name')
    .action(async (ref: string, name: string, _opts: unknown, cmd: Command) => {
      await withContainers(cmd, (c) => c.renameContainer(ref, name));
    });
}
