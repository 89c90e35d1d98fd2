/**
 * `kiln system agent-image`: kiln's own image (the agent's and the
 * executor's), made from the packaged executable with nothing from a
 * registry — the executable, the tools it calls on a node and their shared
 * libraries (src/image/self) — imported into the current backend as
 * kiln:VERSION, and pushed with --push REF.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { failedPrecondition } from '../../errors.js';
import { imageContents } from '../../image/self/files.js';
import { imageChanges, rootfsTar } from '../../image/self/rootfs.js';
import { packaged, packagedExecutable } from '../../self.js';
import { withEngine } from '../engine.js';
import { humanSize } from '../output.js';

export function registerAgentImage(system: Command): void {
  system
    .command('agent-image')
    .description("Build kiln's own image (kiln:VERSION, for the agent and the executor) from the packaged executable, into the current backend")
    .option('--push <reference>', 'also tag it REFERENCE and push it')
    .option('-q, --quiet', 'print only the image ID')
    .action(async (opts: { push?: string; quiet?: boolean }, cmd: Command) => {
      const exe = await packagedExecutable();
      if (exe === undefined) {
        throw failedPrecondition('kiln system agent-image needs the packaged executable, and this kiln runs from node without dist/kiln beside it', {
          hint: 'run npm run package (it writes dist/kiln), then dist/kiln system agent-image',
        });
      }
      // The executable's own version names the image (dist/kiln may be older than the node build running this).
      const version = packaged() ? undefined : (await promisify(execFile)(exe, ['--version'], { encoding: 'utf8' })).stdout.trim();
      const { kilnVersion } = await import('../../version.js');
      const v = version ?? kilnVersion();
      const { files, missing } = await imageContents(exe);
      const tag = `kiln:${v}`;
      const log = (line: string) => opts.quiet || process.stderr.write(`${line}\n`);
      log(`kiln image from ${exe}: ${files.length} files, ${humanSize(files.reduce((n, f) => n + f.size, 0))}`);
      if (missing.length > 0) log(`left out (not on this host): ${missing.map((t) => `${t.name} (${t.why})`).join(', ')}`);
      const id = await withEngine(cmd, async (e) => {
        const id = await e.importRootfs(rootfsTar(files), { reference: tag, changes: imageChanges(v), message: 'kiln system agent-image', source: exe });
        if (opts.push !== undefined) {
          await e.tag(tag, opts.push);
          const r = await e.push(opts.push);
          log(`pushed ${opts.push}: digest: ${r.digest} size: ${r.size}`);
        }
        return id;
      });
      process.stdout.write(opts.quiet ? `${id}\n` : `${tag} ${id}\n`);
    });
}
