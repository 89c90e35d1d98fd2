import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { readEvents } from '../../engine/local/events.js';
import { notRemote } from '../engine.js';
import { globals } from '../context.js';
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
    .option('--since <time>', 'events since this time (RFC 3339, Unix seconds, or 10m)')
    .option('--until <time>', 'stop at this time')
    .option('-f, --filter <key=value>', 'type=, event=, container=, image=', collect, [])
    .option('--format <format>', 'json: one JSON object per line')
    .action(async (opts: { since?: string; until?: string; filter: string[]; format?: string }, cmd: Command) => {
      notRemote(cmd, 'has no event stream');
      const since = time(opts.since, '--since');
      const until = time(opts.until, '--until');
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      // Without --since, only new events, as docker events does.
      const from = since ?? new Date();
      for await (const e of readEvents(globals(cmd).root, { since: from, ...(until ? { until } : {}), filters: opts.filter, follow: true, signal: ac.signal })) {
        if (opts.format === 'json') process.stdout.write(JSON.stringify(e) + '\n');
        else {
          const attrs = Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join(', ');
          process.stdout.write(`${e.time} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}\n`);
        }
      }
    });
}
