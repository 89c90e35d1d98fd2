/**
 * `kiln cp [-a] [-L] CONTAINER:SRC DEST|-` and `kiln cp [-a] [-L] SRC|- CONTAINER:DEST`,
 * as docker: an argument is a container path when it has a `:` before any `/`
 * and does not start with `/` or `.`; the other is a path on this machine, or
 * `-`: a tar on standard output (nothing else printed) or standard input.
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
    .option('-a, --archive', 'archive mode: keep uid/gid (default: owned by root on the receiving side)')
    .option('-L, --follow-link', 'always follow a symbolic link in SRC_PATH')
    .action(async (srcArg: string, destArg: string, opts: { quiet?: boolean; archive?: boolean; followLink?: boolean }, cmd: Command) => {
      const src = parseCpArg(srcArg);
      const dest = parseCpArg(destArg);
      if (src.container && dest.container) throw invalidArgument('copying between containers is not supported', { hint: 'copy to this machine first, then into the other container' });
      if (!src.container && !dest.container) throw invalidArgument('must specify at least one container source', { hint: 'kiln cp CONTAINER:SRC_PATH DEST_PATH, or kiln cp SRC_PATH CONTAINER:DEST_PATH' });
      const flags = { ...(opts.archive ? { archive: true } : {}), ...(opts.followLink ? { followLink: true } : {}) };
      if (src.container && dest.path === '-') {
        if (process.stdout.isTTY) throw invalidArgument('refusing to write a tar archive to a terminal', { hint: 'redirect standard output, or give a path' });
        await withContainers(cmd, (c) => c.copyFromContainer(src.container!, src.path, process.stdout, flags));
        return;
      }
      if (dest.container && src.path === '-' && process.stdin.isTTY) throw invalidArgument('no tar archive on standard input', { hint: 'pipe a tar into kiln cp - CONTAINER:DIR' });
      const bytes = await withContainers(cmd, (c) =>
        src.container
          ? c.copyFromContainer(src.container, src.path, dest.path, flags)
          : c.copyToContainer(dest.container!, src.path === '-' ? process.stdin : src.path, dest.path, flags),
      );
      if (!opts.quiet) process.stderr.write(`Successfully copied ${copied(bytes)} to ${destArg}\n`);
    });
}
