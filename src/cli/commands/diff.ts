import type { Command } from 'commander';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description("Inspect changes to files or directories on a running container's filesystem (A added, C changed, D deleted)")
    .argument('<container>', 'name or ID')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const changes = await withContainers(cmd, (c) => c.diffContainer(ref));
      process.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
    });
}
