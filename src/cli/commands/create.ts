import type { Command } from 'commander';
import { withContainers } from '../engine.js';
import { addCreateFlags, toSpec, type CreateFlags } from './containers/flags.js';
import { createOptions } from './containers/pull.js';

export function register(program: Command): void {
  addCreateFlags(program.command('create').description('Create a container (started later with kiln start); prints its ID')).action(
    async (image: string, command: string[], opts: CreateFlags, cmd: Command) => {
      const spec = toSpec(image, command, opts);
      const pull = createOptions(opts.pull, opts.platform);
      const id = await withContainers(cmd, (c) => c.createContainer(spec, pull)).finally(() => pull.done());
      process.stdout.write(id + '\n');
    },
  );
}
