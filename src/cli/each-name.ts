/**
 * Docker's way with several names (`rm a b c`, stop, kill, start, restart, rmi, wait): each is done in turn; one
 * that fails is a line on stderr and the others are still done; then the command exits 1. With one name its
 * error is the command's (the program's catch prints it, with its own exit code).
 */
import type { Command } from 'commander';
import { isKilnError } from '../errors.js';
import { globals } from './context.js';
import { errorLine } from './error-line.js';
import { fromSystemError } from './system-error.js';

export async function eachName(cmd: Command, names: string[], fn: (name: string) => Promise<void>): Promise<void> {
  if (names.length === 1) return fn(names[0]!);
  let failed = false;
  for (const name of names) {
    try {
      await fn(name);
    } catch (e) {
      // Interrupted: nothing more is done.
      if (isKilnError(e, 'CANCELLED')) throw e;
      const g = globals(cmd);
      process.stderr.write(errorLine(fromSystemError(e, g.root), g.debug) + '\n');
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}
