import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withContainers } from '../engine.js';
import { withTerminal } from './containers/attach.js';
import { addCreateFlags, toSpec, type CreateFlags } from './containers/flags.js';
import { createOptions } from './containers/pull.js';

export function register(program: Command): void {
  addCreateFlags(
    program
      .command('run')
      .description('Create and start a container (foreground unless -d); exits with the container\'s code')
      .option('-d, --detach', 'run in the background and print the container ID'),
  ).action(async (image: string, command: string[], opts: CreateFlags & { detach?: boolean }, cmd: Command) => {
    const spec = toSpec(image, command, opts);
    // As docker: a terminal on a container's stdin needs one on ours.
    if (opts.tty && opts.interactive && !process.stdin.isTTY) throw invalidArgument('the input device is not a TTY', { hint: 'drop -t (keep -i to pipe input), or run kiln from a terminal' });
    await withContainers(cmd, async (c) => {
      const pull = createOptions(opts.pull, opts.platform);
      const id = await c.createContainer(spec, { ...pull, run: true }).finally(() => pull.done());
      if (opts.detach) {
        await c.startContainer(id);
        process.stdout.write(id + '\n');
        return;
      }
      const code = await withTerminal(opts, (attach) => c.startContainer(id, { attach }));
      process.exitCode = code ?? 0;
    });
  });
}
