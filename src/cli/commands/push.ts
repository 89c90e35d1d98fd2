import type { Command } from 'commander';
import { parseNormalizedNamed, repositoryName } from '../../name/reference.js';
import { withEngine } from '../engine.js';
import { parsePlatform } from '../../oci/platform.js';
import { createProgress } from '../progress.js';

export function register(program: Command): void {
  program
    .command('push')
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'suppress progress output')
    .option('--platform <platform>', 'of a multi-platform image, push only this platform\'s manifest (under the tag)')
    .action(async (name: string, opts: { quiet?: boolean; platform?: string }, cmd: Command) => {
      const ref = parseNormalizedNamed(name);
      const out = process.stdout;
      if (!opts.quiet) out.write(`The push refers to repository [${repositoryName(ref)}]\n`);
      const progress = createProgress(out, { quiet: opts.quiet });
      const result = await withEngine(cmd, (e) => e.push(name, { progress, ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) })).finally(() => progress.done());
      out.write(`${result.tag ?? 'digest'}: digest: ${result.digest} size: ${result.size}\n`);
    });
}
