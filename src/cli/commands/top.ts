import type { Command } from 'commander';
import { withContainers } from '../engine.js';
import { printTable } from '../output.js';

export function register(program: Command): void {
  program
    .command('top')
    .description("Display a running container's processes (ps options may follow, default -ef)")
    .argument('<container>', 'name or ID')
    .argument('[ps-options...]', 'options for ps, e.g. -o pid,user,args')
    .passThroughOptions()
    .action(async (ref: string, psArgs: string[], _opts: unknown, cmd: Command) => {
      const top = await withContainers(cmd, (c) => c.topContainer(ref, psArgs));
      // As docker top: its own table with columns at least 20 wide.
      printTable(top.titles, top.processes, 20);
    });
}
