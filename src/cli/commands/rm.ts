import type { Command } from 'commander';
import { eachName } from '../each-name.js';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('rm')
    .description('Remove containers (their root filesystem, network and state)')
    .argument('<container...>', 'names or IDs')
    .option('-f, --force', 'kill a running container first')
    .option('-v, --volumes', 'also remove its anonymous volumes')
    .action(async (refs: string[], opts: { force?: boolean; volumes?: boolean }, cmd: Command) => {
      await withContainers(cmd, async (c) => {
        await eachName(cmd, refs, async (r) => {
          await c.removeContainer(r, { force: !!opts.force, volumes: !!opts.volumes });
          process.stdout.write(r + '\n');
        });
      });
    });
}
