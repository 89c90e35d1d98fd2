import type { Command } from 'commander';
import { withContainers } from '../engine.js';
import { withTerminal } from './containers/attach.js';
import { addCreateFlags, toSpec, type CreateFlags } from './containers/flags.js';

export function register(program: Command): void {
  addCreateFlags(
    program
      .command('run')
      .description('Create and start a container (foreground unless -d); exits with the container\'s code')
      .option('-d, --detach', 'run in the background and print the container ID'),
  ).action(async (image: string, command: string[], opts: CreateFlags & { detach?: boolean }, cmd: Command) => {
    const spec = toSpec(image, command, opts);
    await withContainers(cmd, async (c) => {
      const id = await c.createContainer(spec, { pull: opts.pull !== 'never' });
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
