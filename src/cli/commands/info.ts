/** `kiln info`: the same as `kiln system info` (kim's and docker's name for it). */
import type { Command } from 'commander';
import { infoCommand } from './system.js';

export function register(program: Command): void {
  infoCommand(program);
}
