import type { Command } from 'commander';
import { eachName } from '../each-name.js';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('wait')
    .description('Wait for containers to exit and print their exit codes')
    .argument('<container...>', 'names or IDs')
    .action(async (refs: string[], _opts: unknown, cmd: Command) => {
      await withContainers(cmd, async (c) => {
        await eachName(cmd, refs, async (r) => {
          process.stdout.write(`${await c.waitContainer(r)}\n`);
        });
      });
    });
}
