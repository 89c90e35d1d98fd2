import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { eachName } from '../each-name.js';
import { withContainers } from '../engine.js';
import { withTerminal } from './containers/attach.js';

export function register(program: Command): void {
  program
    .command('start')
    .description('Start containers. As in k3c, every start gives a fresh root filesystem from the image: files written by an earlier run are gone (use volumes to keep data)')
    .argument('<container...>', 'names or IDs')
    .option('-a, --attach', 'attach to the output and exit with the container\'s code (one container)')
    .option('-i, --interactive', 'attach standard input')
    .action(async (refs: string[], opts: { attach?: boolean; interactive?: boolean }, cmd: Command) => {
      await withContainers(cmd, async (c) => {
        if (opts.attach || opts.interactive) {
          if (refs.length > 1) throw invalidArgument('you cannot start and attach multiple containers at once', { hint: 'start them one by one' });
          const d = await c.inspectContainer(refs[0]!);
          const code = await withTerminal({ interactive: !!opts.interactive, tty: !!d.spec.tty }, (attach) => c.startContainer(refs[0]!, { attach }));
          process.exitCode = code ?? 0;
          return;
        }
        await eachName(cmd, refs, async (r) => {
          await c.startContainer(r);
          process.stdout.write(r + '\n');
        });
      });
    });
}
