import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { parsePlatform } from '../../oci/platform.js';
import { withEngine } from '../engine.js';
import { openInput } from '../../user-files.js';

const collect = (v: string, acc: string[]) => [...acc, v];

export function register(program: Command): void {
  program
    .command('import')
    .description('Create an image from a root filesystem tarball (plain, gzip or zstd), like docker import')
    .argument('<file>', 'tarball path, or - for standard input')
    .argument('[reference]', 'REPOSITORY[:TAG] to tag the image')
    .option('-c, --change <instruction>', "apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD)", collect, [])
    .option('-m, --message <message>', 'commit message for the history')
    .option('--platform <platform>', 'os/arch[/variant] of the image (default: this machine)')
    .action(async (file: string, reference: string | undefined, opts: { change: string[]; message?: string; platform?: string }, cmd: Command) => {
      if (file === '-' && process.stdin.isTTY) throw invalidArgument('no tarball on standard input', { hint: 'pipe a tarball or give a file' });
      const input = file === '-' ? process.stdin : await openInput(file, 'import: tarball');
      const id = await withEngine(cmd, (e) =>
        e.importRootfs(input, {
          reference,
          changes: opts.change,
          message: opts.message,
          source: file,
          ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}),
        }),
      );
      process.stdout.write(id + '\n');
    });
}
