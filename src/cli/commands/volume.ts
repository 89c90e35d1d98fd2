import type { Command } from 'commander';
import { failedPrecondition } from '../../errors.js';
import { VolumeStore } from '../../engine/local/volumes/store.js';
import { appendEvent } from '../../engine/local/events.js';
import { globals } from '../context.js';
import { notRemote, withContainers } from '../engine.js';
import { printJSON, printTable } from '../output.js';
import { pruneVolumes } from './containers/prune.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** Volume names used by any container (running or not). */
async function inUse(cmd: Command): Promise<Map<string, string>> {
  return withContainers(cmd, async (c) => {
    const used = new Map<string, string>();
    for (const s of await c.listContainers({ all: true })) {
      const d = await c.inspectContainer(s.id);
      for (const m of d.mounts) if (m.type === 'volume' && m.name) used.set(m.name, d.name);
      for (const v of [...(d.spec.volumes ?? [])]) if (!v.startsWith('/') && v.includes(':')) used.set(v.split(':')[0]!, d.name);
    }
    return used;
  });
}

export function register(program: Command): void {
  const volume = program.command('volume').description('Manage named volumes');
  const store = (cmd: Command) => (notRemote(cmd, 'has no volumes'), new VolumeStore(globals(cmd).root));
  volume
    .command('create')
    .description('Create a volume')
    .argument('[name]', 'volume name (random when omitted)')
    .option('-l, --label <k=v>', 'set a label', collect, [])
    .action(async (name: string | undefined, opts: { label: string[] }, cmd: Command) => {
      const labels = Object.fromEntries(opts.label.map((l) => [l.split('=', 1)[0]!, l.includes('=') ? l.slice(l.indexOf('=') + 1) : '']));
      const v = await store(cmd).create(name, { labels });
      await appendEvent(globals(cmd).root, { type: 'volume', action: 'create', id: v.name, attributes: { name: v.name } });
      process.stdout.write(v.name + '\n');
    });
  volume
    .command('ls')
    .description('List volumes')
    .option('-q, --quiet', 'only names')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (opts: { quiet?: boolean; format?: string }, cmd: Command) => {
      const list = await store(cmd).list();
      if (opts.format === 'json') return printJSON(list);
      if (opts.quiet) return void process.stdout.write(list.map((v) => v.name + '\n').join(''));
      printTable(['DRIVER', 'VOLUME NAME'], list.map((v) => [v.driver, v.name]));
    });
  volume
    .command('inspect')
    .description('Show volumes as JSON')
    .argument('<name...>')
    .action(async (names: string[], _o: unknown, cmd: Command) => {
      const s = store(cmd);
      const out = [];
      for (const n of names) {
        const v = await s.inspect(n);
        out.push({ Name: v.name, Driver: v.driver, Mountpoint: v.mountpoint, CreatedAt: v.createdAt, Labels: v.labels, Scope: 'local' });
      }
      printJSON(out);
    });
  volume
    .command('rm')
    .description('Remove volumes (not while a container uses them, unless -f)')
    .argument('<name...>')
    .option('-f, --force', 'remove even when a container uses it')
    .action(async (names: string[], opts: { force?: boolean }, cmd: Command) => {
      const s = store(cmd);
      const used = opts.force ? new Map<string, string>() : await inUse(cmd);
      for (const n of names) {
        await s.inspect(n);
        const by = used.get(n);
        if (by) throw failedPrecondition(`volume ${n} is in use by container ${by}`, { hint: `remove the container first (kiln rm ${by})` });
        await s.remove(n);
        await appendEvent(globals(cmd).root, { type: 'volume', action: 'destroy', id: n, attributes: { name: n } });
        process.stdout.write(n + '\n');
      }
    });
  volume
    .command('prune')
    .description('Remove every volume no container uses')
    .option('-f, --force', 'do not ask (kiln never asks)')
    .action(async (_o: unknown, cmd: Command) => {
      const removed = await pruneVolumes(globals(cmd).root);
      if (removed.length) process.stdout.write(`Deleted Volumes:\n${removed.map((n) => n + '\n').join('')}`);
      process.stdout.write(`Total reclaimed volumes: ${removed.length}\n`);
    });
}
