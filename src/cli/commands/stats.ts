/**
 * `kiln stats [--no-stream] [CONTAINER…]`: docker's columns and units — memory in
 * powers of 1024 (`244KiB / 23.43GiB`), network and block I/O in powers of 1000
 * (`1.17kB / 542B`) — and its `--format` fields.
 */
import type { Command } from 'commander';
import type { ContainerStats } from '../../engine/containers.js';
import { withContainers } from '../engine.js';
import { printFormatted } from '../output.js';

/** Go's %.Ng with a unit, as docker's units package prints sizes. */
function size(bytes: number, base: number, units: string[], digits: number): string {
  let v = bytes;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(digits))}${units[i]}`;
}
export const binarySize = (b: number): string => size(b, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], 4);
export const decimalSize = (b: number): string => size(b, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB'], 3);

const HEADERS = { Container: 'CONTAINER', ID: 'CONTAINER ID', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };
const DEFAULT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

export function statsRow(s: ContainerStats, opts: { trunc: boolean; asked?: string }) {
  const id = opts.trunc ? s.id.slice(0, 12) : s.id;
  return {
    Container: opts.asked ?? id,
    ID: id,
    Name: s.name,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${binarySize(s.memUsage)} / ${binarySize(s.memLimit)}`,
    MemPerc: `${s.memPercent.toFixed(2)}%`,
    NetIO: `${decimalSize(s.netRx)} / ${decimalSize(s.netTx)}`,
    BlockIO: `${decimalSize(s.blockRead)} / ${decimalSize(s.blockWrite)}`,
    PIDs: String(s.pids),
  };
}

interface Opts {
  stream: boolean;
  trunc: boolean;
  format?: string;
}

export function register(program: Command): void {
  program
    .command('stats')
    .description("Display containers' resource usage (every running container when none is named)")
    .argument('[containers...]', 'names or IDs')
    .option('--no-stream', 'print one reading and exit')
    .option('--no-trunc', 'do not truncate IDs')
    .option('--format <format>', 'json, or a Go template: "table {{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}"')
    .action(async (refs: string[], opts: Opts, cmd: Command) => {
      const print = async (stats: ContainerStats[]) => {
        const rows = stats.map((s, i) => statsRow(s, { trunc: opts.trunc, ...(refs[i] !== undefined ? { asked: refs[i] } : {}) }));
        // docker prints one JSON object per line
        if (opts.format === 'json') return void process.stdout.write(rows.map((r) => JSON.stringify(r) + '\n').join(''));
        return printFormatted(opts.format ?? DEFAULT, rows, HEADERS);
      };
      if (!opts.stream) return print(await withContainers(cmd, (c) => c.statsContainers(refs)));
      // Streaming: a fresh reading every second until Ctrl-C, the screen cleared on a terminal as docker does.
      for (;;) {
        const stats = await withContainers(cmd, (c) => c.statsContainers(refs));
        if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
        await print(stats);
      }
    });
}
