/**
 * `kiln commit [-a AUTHOR] [-m MSG] [-c INSTRUCTION]… [-p=false] CONTAINER [REPO[:TAG]]`,
 * as docker: a running container's changes as a new image; prints its id.
 */
import type { Command } from 'commander';
import { invalidArgument } from '../../errors.js';
import { parseNormalizedNamed } from '../../name/reference.js';
import { applyChanges, newConfig } from '../../oci/config.js';
import { hostPlatform } from '../../oci/platform.js';
import { withContainers } from '../engine.js';

const collect = (v: string, acc: string[]) => [...acc, v];

/** docker's boolean flag value (`--pause=false`). */
function bool(v: string): boolean {
  if (/^(true|1|t)$/i.test(v)) return true;
  if (/^(false|0|f)$/i.test(v)) return false;
  throw invalidArgument(`invalid boolean "${v}" for --pause`, { hint: 'use --pause=true or --pause=false' });
}

export function register(program: Command): void {
  program
    .command('commit')
    .description("Create a new image from a running container's changes")
    .argument('<container>', 'name or ID')
    .argument('[reference]', 'REPOSITORY[:TAG] to name the image')
    .option('-a, --author <author>', 'author (e.g. "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD)', collect, [])
    .option('-m, --message <message>', 'commit message')
    .option('-p, --pause [bool]', 'pause the container during commit (default true)', bool, true)
    .action(async (ref: string, reference: string | undefined, opts: { author?: string; change: string[]; message?: string; pause: boolean }, cmd: Command) => {
      // Checked before the container is touched: a bad instruction or name makes nothing.
      applyChanges(newConfig(hostPlatform()), opts.change);
      if (reference !== undefined) parseNormalizedNamed(reference);
      const id = await withContainers(cmd, (c) =>
        c.commitContainer(ref, {
          pause: opts.pause,
          changes: opts.change,
          ...(opts.author !== undefined ? { author: opts.author } : {}),
          ...(opts.message !== undefined ? { message: opts.message } : {}),
          ...(reference !== undefined ? { reference } : {}),
        }),
      );
      process.stdout.write(id + '\n');
    });
}
