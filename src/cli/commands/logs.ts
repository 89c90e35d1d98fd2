import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withContainers } from '../engine.js';

/** Docker's relative times: 10s, 5m, 2h ago; anything else is passed as is (RFC 3339 or Unix seconds). */
export function sinceTime(text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
  if (!m) return text;
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  return new Date(now - ms).toISOString();
}

export function register(program: Command): void {
  program
    .command('logs')
    .description('Show a container\'s output (kept across restarts, in the CRI log format)')
    .argument('<container>', 'name or ID')
    .option('-f, --follow', 'keep printing new output until the container exits')
    .option('--since <time>', 'only output since this time (RFC 3339, Unix seconds, or 10m)')
    .option('--until <time>', 'only output before this time')
    .option('-n, --tail <lines>', 'only the last N lines ("all" for everything)')
    .option('-t, --timestamps', 'prefix each line with its time')
    .action(async (ref: string, opts: { follow?: boolean; since?: string; until?: string; tail?: string; timestamps?: boolean }, cmd: Command) => {
      let tail: number | undefined;
      if (opts.tail !== undefined && opts.tail !== 'all') {
        tail = Number(opts.tail);
        if (!Number.isInteger(tail) || tail < 0) throw invalidArgument(`invalid --tail "${opts.tail}"`, { hint: 'give a number of lines or "all"' });
      }
      const since = sinceTime(opts.since);
      const until = sinceTime(opts.until);
      await withContainers(cmd, (c) =>
        c.containerLogs(ref, { stdout: process.stdout, stderr: process.stderr }, {
          follow: !!opts.follow,
          timestamps: !!opts.timestamps,
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          ...(tail !== undefined ? { tail } : {}),
        }),
      );
    });
}
