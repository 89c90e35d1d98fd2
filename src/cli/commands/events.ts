import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withEngine } from '../engine.js';
import { sinceTime } from './logs.js';

const collect = (v: string, acc: string[]) => [...acc, v];

function time(text: string | undefined, flag: string): Date | undefined {
  const t = sinceTime(text);
  if (t === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(t) ? Number(t) * 1000 : Date.parse(t);
  if (Number.isNaN(ms)) throw invalidArgument(`invalid ${flag} "${text}"`, { hint: 'use RFC 3339, Unix seconds, or a duration like 10m' });
  return new Date(ms);
}

export function register(program: Command): void {
  program
    .command('events')
    .description('Show container and image events (streams new ones until --until or Ctrl-C)')
    .option('--since <time>', 'events since this time (RFC 3339, Unix seconds, or 10m); the containerd backend keeps no history, so only new events there')
    .option('--until <time>', 'stop at this time')
    .option('-f, --filter <key=value>', 'type=, event=, container=, image=', collect, [])
    .option('--format <format>', 'json: one JSON object per line')
    .action(async (opts: { since?: string; until?: string; filter: string[]; format?: string }, cmd: Command) => {
      const since = time(opts.since, '--since');
      const until = time(opts.until, '--until');
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await withEngine(cmd, async (engine) => {
          // Without --since, only new events, as docker events does.
          const query = { since: since ?? new Date(), ...(until ? { until } : {}), filters: opts.filter, follow: true, signal: ac.signal };
          for await (const e of engine.events(query)) {
            if (opts.format === 'json') process.stdout.write(JSON.stringify(e) + '\n');
            else {
              const attrs = Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(', ');
              process.stdout.write(`${e.time} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}\n`);
            }
          }
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
