import type { Command } from 'commander';
import { eachName } from '../each-name.js';
import { withContainers } from '../engine.js';
import { seconds } from './stop.js';

export function register(program: Command): void {
  program
    .command('restart')
    .description('Stop and start containers again. As in k3c, the new start gets a fresh root filesystem from the image (volumes keep their data)')
    .argument('<container...>', 'names or IDs')
    .option('-t, --time <seconds>', 'seconds to wait before killing (default 10)')
    .action(async (refs: string[], opts: { time?: string }, cmd: Command) => {
      const timeoutSeconds = seconds(opts.time);
      await withContainers(cmd, async (c) => {
        await eachName(cmd, refs, async (r) => {
          await c.restartContainer(r, timeoutSeconds !== undefined ? { timeoutSeconds } : {});
          process.stdout.write(r + '\n');
        });
      });
    });
}
