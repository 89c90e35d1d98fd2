/** What the prune commands print, as Docker does: the sections of what went, then "Total reclaimed space: 780MB". */
import type { Command } from 'commander';
import { withEngine } from '../engine.js';
import { humanSize } from '../output.js';
import { isKilnError } from '../../errors.js';

/** A section ("Deleted Containers:" and one id a line) then a blank line, or nothing when it is empty. */
export function section(title: string, lines: string[]): string {
  return lines.length === 0 ? '' : `${title}\n${lines.map((l) => `${l}\n`).join('')}\n`;
}

export const totalLine = (bytes: number): string => `Total reclaimed space: ${humanSize(bytes, 4)}\n`;

/** The writable layers' sizes of the backend's containers, by id (empty where the backend cannot say: containerd, an agent on it). */
export async function containerSizes(cmd: Command): Promise<Map<string, number>> {
  const usage = await withEngine(cmd, async (e) =>
    e.diskUsage?.().catch((err: unknown) => {
      if (isKilnError(err, 'FAILED_PRECONDITION') || isKilnError(err, 'UNIMPLEMENTED')) return undefined; // an agent without the call
      throw err;
    }),
  );
  return new Map((usage?.items ?? []).filter((i) => i.type === 'Containers').map((i) => [i.id, i.size]));
}
