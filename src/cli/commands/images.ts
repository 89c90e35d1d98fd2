import type { Command } from 'commander';
import { familiarName, parseReference } from '../../name/reference.js';
import type { ImageSummary } from '../../engine/engine.js';
import { withEngine } from '../engine.js';
import { humanAge, humanSize, printFormatted, printJSON, printTable } from '../output.js';
import { filterImages, needsLabels } from './image-filter.js';

interface Opts {
  quiet?: boolean;
  digests?: boolean;
  trunc: boolean;
  format?: string;
  filter: string[];
}

/** The fields `--format` templates see, with docker's column titles. */
const HEADERS = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' };

interface Row {
  Repository: string;
  Tag: string;
  Digest: string;
  ID: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
}

/** One row per repository:tag, like `docker images`. */
function rows(images: ImageSummary[], opts: Opts): Row[] {
  const out: Row[] = [];
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
      out.push({ Repository: repo, Tag: tag, Digest: digest, ID: id, CreatedSince: humanAge(img.created), CreatedAt: img.created ?? '', Size: humanSize(img.size) });
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
    .option('-a, --all', 'all images (kiln keeps no intermediate images: the same list, as docker with BuildKit)')
    .option('-q, --quiet', 'only image IDs')
    .option('--digests', 'show digests')
    .option('--no-trunc', 'do not truncate IDs')
    .option('--format <format>', 'json, or a Go template: "{{.Repository}}:{{.Tag}} {{.ID}}", "table {{.ID}}\\t{{.Size}}"')
    .option('-f, --filter <filter>', 'dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, label=KEY[=VALUE] (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .action(async (repository: string | undefined, opts: Opts, cmd: Command) => {
      const images = await withEngine(cmd, async (e) => {
        const all = await e.listImages(repository ? { reference: repository } : {});
        // Labels live in each image's config: read only when a label= filter asks for them.
        const labels = needsLabels(opts.filter) ? new Map(await Promise.all(all.map(async (i) => [i.id, (await e.inspectImage(i.id)).config.config?.Labels ?? {}] as const))) : undefined;
        return filterImages(all, opts.filter, labels);
      });
      // Only the rows of the repository[:tag] asked for, as docker shows them (an image's other names are left out).
      const wanted = repository === undefined ? undefined : parseReference(repository);
      const shown = (all: Row[]) => (wanted ? all.filter((r) => r.Repository === familiarName(wanted) && (wanted.tag === undefined || r.Tag === wanted.tag)) : all);
      if (opts.format === 'json') return printJSON(images);
      if (opts.format !== undefined) return printFormatted(opts.format, shown(rows(images, opts)), HEADERS);
      if (opts.quiet) {
        const ids = [...new Set(images.map((i) => (opts.trunc ? i.id.slice(7, 19) : i.id)))];
        process.stdout.write(ids.map((i) => i + '\n').join(''));
        return;
      }
      printTable(
        ['REPOSITORY', 'TAG', ...(opts.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'],
        shown(rows(images, opts)).map((r) => [r.Repository, r.Tag, ...(opts.digests ? [r.Digest] : []), r.ID, r.CreatedSince, r.Size]),
      );
    });
}
