import type { Command } from 'commander';
import { familiarString, parseReference } from '../../name/reference.js';
import { withEngine } from '../engine.js';

const familiar = (name: string): string => familiarString(parseReference(name));
import { printJSON } from '../output.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('Show the details of images as JSON (Docker-style fields)')
    .argument('<image...>')
    .action(async (images: string[], _opts: unknown, cmd: Command) => {
      const details = await withEngine(cmd, async (e) => Promise.all(images.map((i) => e.inspectImage(i))));
      printJSON(
        details.map((d) => ({
          Id: d.id,
          RepoTags: d.repoTags.map(familiar),
          RepoDigests: d.repoDigests.map(familiar),
          Created: d.config.created,
          Author: d.config.author ?? '',
          Architecture: d.config.architecture,
          Os: d.config.os,
          ...(d.config.variant ? { Variant: d.config.variant } : {}),
          Size: d.size,
          Config: d.config.config ?? {},
          RootFS: { Type: d.config.rootfs.type, Layers: d.config.rootfs.diff_ids },
          Manifest: { MediaType: d.manifestDescriptor.mediaType, Digest: d.manifestDescriptor.digest, Size: d.manifestDescriptor.size },
        })),
      );
    });
}
