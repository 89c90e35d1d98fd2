/**
 * `kiln cp CONTAINER:SRC DEST` and `kiln cp SRC CONTAINER:DEST`, as docker:
 * an argument is a container path when it has a `:` before any `/` and does
 * not start with `/` or `.`; the other is a path on this machine.
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { withContainers } from '../engine.js';

interface Spec {
  container?: string;
  path: string;
}

export function parseCpArg(arg: string): Spec {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const colon = arg.indexOf(':');
  const slash = arg.indexOf('/');
  if (colon <= 0 || (slash >= 0 && slash < colon)) return { path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) || '/' };
}

/** docker's units.HumanSize: powers of 1000, four significant digits. */
const copied = (n: number): string => {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
};

export function register(program: Command): void {
  program
    .command('cp')
    .description('Copy files between a running container and this machine (CONTAINER:SRC DEST or SRC CONTAINER:DEST)')
    .argument('<src>', 'CONTAINER:SRC_PATH or a local path')
    .argument('<dest>', 'a local path or CONTAINER:DEST_PATH')
    .option('-q, --quiet', 'do not print what was copied')
    .action(async (srcArg: string, destArg: string, opts: { quiet?: boolean }, cmd: Command) => {
      const src = parseCpArg(srcArg);
      const dest = parseCpArg(destArg);
      if (src.path === '-' || dest.path === '-') throw invalidArgument('kiln cp with - (a tar on standard input or output) is not supported yet', { hint: 'give a path on this machine' });
      if (src.container && dest.container) throw invalidArgument('copying between containers is not supported', { hint: 'copy to this machine first, then into the other container' });
      if (!src.container && !dest.container) throw invalidArgument('must specify at least one container source', { hint: 'kiln cp CONTAINER:SRC_PATH DEST_PATH, or kiln cp SRC_PATH CONTAINER:DEST_PATH' });
      const bytes = await withContainers(cmd, (c) =>
        src.container ? c.copyFromContainer(src.container, src.path, dest.path) : c.copyToContainer(dest.container!, src.path, dest.path),
      );
      if (!opts.quiet) process.stderr.write(`Successfully copied ${copied(bytes)} to ${destArg}\n`);
    });
}
