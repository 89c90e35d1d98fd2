import type { Command } from 'commander';
import { failedPrecondition } from '../../errors.js';
import { withContainers } from '../engine.js';

export function register(program: Command): void {
  program
    .command('attach')
    .description("Follow a running container's output from now until it exits, then exit with its code (input is not attached: a detached container's stdin is closed)")
    .argument('<container>', 'name or ID')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await withContainers(cmd, async (c) => {
        const d = await c.inspectContainer(ref);
        if (d.state !== 'running') throw failedPrecondition(`cannot attach to container ${d.name}: it is not running`, { hint: `start it with kiln start -a ${d.name}` });
        await c.containerLogs(d.id, { stdout: process.stdout, stderr: process.stderr }, { follow: true, tail: 0 });
        process.exitCode = await c.waitContainer(d.id);
      });
    });
}
