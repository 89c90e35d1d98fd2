import type { Command } from 'commander';
import { eachName } from '../each-name.js';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('kill')
    .description('Send a signal (default SIGKILL) to running containers')
    .argument('<container...>', 'names or IDs')
    .option('-s, --signal <signal>', 'signal name or number', 'SIGKILL')
    .action(async (refs: string[], opts: { signal: string }, cmd: Command) => {
      await withContainers(cmd, async (c) => {
        await eachName(cmd, refs, async (r) => {
          await c.killContainer(r, opts.signal);
          process.stdout.write(r + '\n');
        });
      });
    });
}
