/** The CLI's terminal as a container's stdio: raw mode for -t on a terminal, stdin only with -i. */
import { execFileSync } from 'node:child_process';
import type { Attach } from '../../../engine/containers.js';

/** Node's raw mode keeps output processing (\n → \r\n); the container's terminal already did that. */
function outputProcessing(on: boolean): void {
  try {
    execFileSync('stty', [on ? 'opost' : '-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
  } catch {
    // no stty: lines get an extra \r, nothing worse
  }
}

export async function withTerminal<T>(opts: { interactive?: boolean; tty?: boolean }, fn: (attach: Attach) => Promise<T>): Promise<T> {
  const stdin = process.stdin;
  const raw = !!opts.tty && !!opts.interactive && stdin.isTTY;
  if (raw) {
    stdin.setRawMode(true);
    outputProcessing(false);
  }
  // A reader that goes away (`kiln run … | head -1`) must not kill the CLI: the container runs on and is logged.
  const ignore = () => undefined;
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
  try {
    return await fn({ ...(opts.interactive ? { stdin } : {}), stdout: process.stdout, stderr: process.stderr });
  } finally {
    process.stdout.off('error', ignore);
    process.stderr.off('error', ignore);
    if (raw) {
      outputProcessing(true);
      stdin.setRawMode(false);
    }
    if (opts.interactive) {
      stdin.unpipe();
      stdin.pause();
      stdin.destroy();
    }
  }
}
