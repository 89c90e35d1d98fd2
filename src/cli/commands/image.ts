/**
 * kim's command group: `kiln image build|ls|pull|push|rm|tag|inspect|history|save|load|import`
 * (and `pin|unpin`, only here),
 * the same commands as the top-level docker-style ones (same flags, same
 * output), registered again under `image`.
 */
import type { Command } from 'commander';

export async function register(program: Command): Promise<void> {
  const image = program.command('image').description('Manage images (the same commands as build, images, pull, push, rmi, tag, inspect…)');
  const mods = await Promise.all([
    import('./build.js'),
    import('./images.js'),
    import('./pull.js'),
    import('./push.js'),
    import('./rmi.js'),
    import('./tag.js'),
    import('./inspect.js'),
    import('./history.js'),
    import('./save.js'),
    import('./load.js'),
    import('./import.js'),
    import('./pin.js'),
    import('./image-prune.js'),
  ]);
  for (const m of mods) m.register(image);
  image.commands.find((c) => c.name() === 'rmi')?.alias('rm');
}
