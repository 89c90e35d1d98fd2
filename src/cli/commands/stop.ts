import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { eachName } from '../each-name.js';
import { withContainers } from '../engine.js';

export function seconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`invalid --time "${text}"`, { hint: 'give whole seconds, e.g. -t 5' });
  return n;
}

export function register(program: Command): void {
  program
    .command('stop')
    .description('Stop running containers: the stop signal (image STOPSIGNAL or SIGTERM), then SIGKILL after the timeout')
    .argument('<container...>', 'names or IDs')
    .option('-t, --time <seconds>', 'seconds to wait before killing (default 10)')
    .option('-s, --signal <signal>', 'signal to send first')
    .action(async (refs: string[], opts: { time?: string; signal?: string }, cmd: Command) => {
      const timeoutSeconds = seconds(opts.time);
      await withContainers(cmd, async (c) => {
        await eachName(cmd, refs, async (r) => {
          await c.stopContainer(r, { ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
          process.stdout.write(r + '\n');
        });
      });
    });
}
