import type { Command } from 'commander';
import type { ContainerEngine, VolumeInfo } from '../../engine/containers.js';
import { invalidArgument } from '../../errors.js';
import { notRemote, withContainers } from '../engine.js';
import { printJSON, printTable } from '../output.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** docker's `volume ls --filter` keys kiln has: name= (a substring), label=KEY or KEY=VALUE, driver=; values of one key are alternatives. */
export function volumeFilter(specs: string[]): (v: VolumeInfo) => boolean {
  const want = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    if (!['name', 'label', 'driver'].includes(key)) throw invalidArgument(`invalid filter '${key}'`, { hint: 'kiln volume ls supports --filter name=, label=, driver=' });
    want.set(key, [...(want.get(key) ?? []), eq < 0 ? '' : spec.slice(eq + 1)]);
  }
  const label = (v: VolumeInfo, l: string) => (l.includes('=') ? v.labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in v.labels);
  return (v) =>
    [...want].every(([key, values]) => values.some((x) => (key === 'name' ? v.name.includes(x) : key === 'driver' ? v.driver === x : label(v, x))));
}

/** Volumes are the container engine's: through an agent (--host) there are none. */
function withVolumes<T>(cmd: Command, fn: (c: ContainerEngine) => Promise<T>): Promise<T> {
  notRemote(cmd, 'has no volumes');
  return withContainers(cmd, fn);
}

export function register(program: Command): void {
  const volume = program.command('volume').description('Manage named volumes');
  volume
    .command('create')
    .description('Create a volume')
    .argument('[name]', 'volume name (random when omitted)')
    .option('-l, --label <k=v>', 'set a label', collect, [])
    .action(async (name: string | undefined, opts: { label: string[] }, cmd: Command) => {
      const labels = Object.fromEntries(opts.label.map((l) => [l.split('=', 1)[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      const v = await withVolumes(cmd, (c) => c.createVolume(name, { labels }));
      process.stdout.write(v.name + '\n');
    });
  volume
    .command('ls')
    .description('List volumes')
    .option('-q, --quiet', 'only names')
    .option('--format <format>', 'json for machine-readable output')
    .option('-f, --filter <filter>', 'name=PART, label=KEY[=VALUE], driver=local (repeatable)', collect, [])
    .action(async (opts: { quiet?: boolean; format?: string; filter: string[] }, cmd: Command) => {
      const keep = volumeFilter(opts.filter);
      const list = (await withVolumes(cmd, (c) => c.listVolumes())).filter(keep);
      if (opts.format === 'json') return printJSON(list.map(({ scope: _s, ...v }) => v));
      if (opts.quiet) return void process.stdout.write(list.map((v) => v.name + '\n').join(''));
      printTable(['DRIVER', 'VOLUME NAME'], list.map((v) => [v.driver, v.name]));
    });
  volume
    .command('inspect')
    .description('Show volumes as JSON')
    .argument('<name...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const out = await withVolumes(cmd, async (c) => {
        const all = [];
        for (const n of names) {
          const v = await c.inspectVolume(n);
          all.push({ Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, CreatedAt: v.createdAt, Labels: v.labels, Scope: v.scope });
        }
        return all;
      });
      printJSON(out);
    });
  volume
    .command('rm')
    .description('Remove volumes (not while a container uses them, unless -f)')
    .argument('<name...>')
    .option('-f, --force', 'remove even when a container uses it')
    .action(async (names: string[], opts: { force?: boolean }, cmd: Command) => {
      await withVolumes(cmd, async (c) => {
        for (const n of names) process.stdout.write((await c.removeVolume(n, opts.force ? { force: true } : {})) + '\n');
      });
    });
  volume
    .command('prune')
    .description('Remove every volume no container uses')
    .option('-f, --force', 'do not ask (kiln never asks)')
    .action(async (_o: unknown, cmd: Command) => {
      const removed = await withVolumes(cmd, (c) => c.pruneVolumes());
      if (removed.length) process.stdout.write(`Deleted Volumes:\n${removed.map((n) => n + '\n').join('')}`);
      process.stdout.write(`Total reclaimed volumes: ${removed.length}\n`);
    });
}
