/**
 * `kiln image pin|unpin IMAGE…`: keep images from the kubelet's image GC on a
 * node (containerd's CRI pin label on their names; containerd and kube backends).
 */
import type { Command } from 'commander';
import { familiarString, parseReference } from '../../name/reference.js';
import { withEngine } from '../engine.js';

export function register(program: Command): void {
  for (const [verb, pinned, said] of [['pin', true, 'Pinned'], ['unpin', false, 'Unpinned']] as const) {
    program
      .command(verb)
      .description(pinned ? "Keep images from the kubelet's image GC (containerd's CRI pin label on their names)" : 'Let the kubelet collect images again')
      .argument('<image...>', 'IMAGE[:TAG] or image ID')
      .action(async (images: string[], _opts: unknown, cmd: Command) => {
        const names = await withEngine(cmd, (e) => e.pin(images, pinned));
        for (const n of names) process.stdout.write(`${said}: ${familiarString(parseReference(n))}\n`);
      });
  }
}
