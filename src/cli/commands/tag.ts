import type { Command } from 'commander';
import { withEngine } from '../engine.js';

export function register(program: Command): void {
  program
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG] or image ID')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source: string, target: string, _opts: unknown, cmd: Command) => {
      await withEngine(cmd, (e) => e.tag(source, target));
    });
}
