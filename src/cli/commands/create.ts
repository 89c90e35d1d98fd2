import type { Command } from 'commander';
import { withContainers } from '../engine.js';
import { addCreateFlags, toSpec, type CreateFlags } from './containers/flags.js';

export function register(program: Command): void {
  addCreateFlags(program.command('create').description('Create a container (started later with kiln start); prints its ID')).action(
    async (image: string, command: string[], opts: CreateFlags, cmd: Command) => {
      const spec = toSpec(image, command, opts);
      const id = await withContainers(cmd, (c) => c.createContainer(spec, { pull: opts.pull !== 'never' }));
      process.stdout.write(id + '\n');
    },
  );
}
