/** Docker's rules for combining the image's Entrypoint and Cmd with `--entrypoint` and the run arguments. */
import type { ContainerConfig } from '../oci/types.js';
import type { RunOptions } from './options.js';
import { invalidArgument } from '../errors.js';

export function containerArgs(image: ContainerConfig, opts: Pick<RunOptions, 'cmd' | 'entrypoint'>): string[] {
  let entrypoint = image.Entrypoint ?? [];
  let cmd = image.Cmd ?? [];
  if (opts.entrypoint !== undefined) {
    // A new entrypoint drops the image's Cmd, which was written for the old one.
    entrypoint = opts.entrypoint;
    cmd = [];
  }
  if (opts.cmd !== undefined && opts.cmd.length > 0) cmd = opts.cmd;
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw invalidArgument('no command specified', {
      hint: 'give a command after the image name, or use an image with an Entrypoint or Cmd',
    });
  }
  return args;
}
