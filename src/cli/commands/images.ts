import type { Command } from 'commander';
import { familiarName, parseReference } from '../../name/reference.js';
import type { ImageSummary } from '../../engine/engine.js';
import { withEngine } from '../engine.js';
import { humanAge, humanSize, printJSON, printTable } from '../output.js';

interface Opts {
  quiet?: boolean;
  digests?: boolean;
  trunc: boolean;
  format?: string;
}

/** One table row per repository:tag, like `docker images`. */
function rows(images: ImageSummary[], opts: Opts): string[][] {
  const out: string[][] = [];
  for (const img of images) {
    const id = opts.trunc ? img.id.slice(7, 19) : img.id;
    const tags = img.repoTags.length ? img.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      let repo = '<none>';
      let tag = '<none>';
      if (t !== '<none>:<none>') {
        const ref = parseReference(t);
        repo = familiarName(ref);
        tag = ref.tag ?? '<none>';
      }
      const digest = img.repoDigests.find((d) => d.startsWith(`${repo}@`) || familiarName(parseReference(d)) === repo)?.split('@')[1] ?? '<none>';
      out.push([repo, tag, ...(opts.digests ? [digest] : []), id, humanAge(img.created), humanSize(img.size)]);
    }
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('images')
    .alias('ls')
    .description('List images')
    .argument('[repository]', 'only images of this repository[:tag]')
    .option('-q, --quiet', 'only image IDs')
    .option('--digests', 'show digests')
    .option('--no-trunc', 'do not truncate IDs')
    .option('--format <format>', 'json for machine-readable output')
    .action(async (repository: string | undefined, opts: Opts, cmd: Command) => {
      const images = await withEngine(cmd, (e) => e.listImages(repository ? { reference: repository } : {}));
      if (opts.format === 'json') return printJSON(images);
      if (opts.quiet) {
        const ids = [...new Set(images.map((i) => (opts.trunc ? i.id.slice(7, 19) : i.id)))];
        process.stdout.write(ids.map((i) => i + '\n').join(''));
        return;
      }
      printTable(['REPOSITORY', 'TAG', ...(opts.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'], rows(images, opts));
    });
}
