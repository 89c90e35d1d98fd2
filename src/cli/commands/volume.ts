import type { Command } from 'commander';
import type { ContainerEngine, VolumeInfo } from '../../engine/containers.js';
import { invalidArgument } from '../../errors.js';
import { notRemote, withContainers } from '../engine.js';
import { printJSON, printTable } from '../output.js';
import { namedVolumes } from '../../engine/containers/volume-use.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/**
 * docker's `volume ls --filter` keys kiln has: name= (a substring), label=KEY or KEY=VALUE, driver=,
 * dangling=true|false (no container uses it: `used` must then be given); values of one key are alternatives.
 */
export function volumeFilter(specs: string[], used?: Set<string>): (v: VolumeInfo) => boolean {
  const want = new Map<string, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    const value = eq < 0 ? '' : spec.slice(eq + 1);
    if (!['name', 'label', 'driver', 'dangling'].includes(key)) throw invalidArgument(`invalid filter '${key}'`, { hint: 'kiln volume ls supports --filter name=, label=, driver=, dangling=' });
    if (key === 'dangling' && !['true', 'false', '1', '0'].includes(value)) throw invalidArgument(`invalid filter 'dangling=${value}'`, { hint: 'use --filter dangling=true or dangling=false' });
    want.set(key, [...(want.get(key) ?? []), value]);
  }
  const label = (v: VolumeInfo, l: string) => (l.includes('=') ? v.labels[l.slice(0, l.indexOf('='))] === l.slice(l.indexOf('=') + 1) : l in v.labels);
  const match = (v: VolumeInfo, key: string, x: string): boolean => {
    if (key === 'name') return v.name.includes(x);
    if (key === 'driver') return v.driver === x;
    if (key === 'dangling') return !used?.has(v.name) === (x === 'true' || x === '1');
    return label(v, x);
  };
  return (v) => [...want].every(([key, values]) => values.some((x) => match(v, key, x)));
}

/** The volumes containers use (any state), from their details: read only for a dangling= filter. */
async function volumesInUse(c: ContainerEngine): Promise<Set<string>> {
  const details = await Promise.all((await c.listContainers({ all: true })).map((s) => c.inspectContainer(s.id)));
  return new Set(details.flatMap((d) => namedVolumes(d)));
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
    .option('-f, --filter <filter>', 'name=PART, label=KEY[=VALUE], driver=local, dangling=true|false (repeatable)', collect, [])
    .action(async (opts: { quiet?: boolean; format?: string; filter: string[] }, cmd: Command) => {
      const dangling = opts.filter.some((f) => f.startsWith('dangling'));
      volumeFilter(opts.filter); // a bad filter is refused before the engine is opened
      const list = await withVolumes(cmd, async (c) => (await c.listVolumes()).filter(volumeFilter(opts.filter, dangling ? await volumesInUse(c) : undefined)));
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
