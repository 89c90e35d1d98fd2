import type { Command } from 'commander';
import { familiarString, parseNormalizedNamed, parseReference } from '../../name/reference.js';
import { parsePlatform } from '../../oci/platform.js';
import { withEngine } from '../engine.js';
import { createProgress } from '../progress.js';

export function register(program: Command): void {
  program
    .command('pull')
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'os/arch[/variant] to pull from a multi-platform image')
    .option('-q, --quiet', 'print only the image reference')
    .action(async (name: string, opts: { platform?: string; quiet?: boolean }, cmd: Command) => {
      const ref = parseNormalizedNamed(name);
      const explicit = parseReference(name);
      const out = process.stdout;
      if (!opts.quiet) {
        if (!explicit.tag && !explicit.digest) out.write('Using default tag: latest\n');
        out.write(`${ref.digest ?? ref.tag}: Pulling from ${ref.path}\n`);
      }
      const progress = createProgress(out, { quiet: opts.quiet });
      const result = await withEngine(cmd, (e) =>
        e.pull(name, { progress, ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}) }),
      ).finally(() => progress.done());
      if (!opts.quiet) {
        out.write(`Digest: ${result.digest}\n`);
        out.write(result.upToDate ? `Status: Image is up to date for ${familiarString(ref)}\n` : `Status: Downloaded newer image for ${familiarString(ref)}\n`);
      }
      out.write(`${result.reference}\n`);
    });
}
