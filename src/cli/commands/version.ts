import type { Command } from 'commander';
import { printJSON } from '../output.js';
import { kilnVersion } from '../../version.js';

export function register(program: Command): void {
  program
    .command('version')
    .description('Show the kiln version information')
    .option('--format <format>', 'json for machine-readable output')
    .action((opts: { format?: string }) => {
      const info = { version: kilnVersion(), node: process.version, os: process.platform, arch: process.arch };
      if (opts.format === 'json') printJSON(info);
      else process.stdout.write(`kiln version ${info.version}\nnode ${info.node}\nos/arch ${info.os}/${info.arch}\n`);
    });
}
