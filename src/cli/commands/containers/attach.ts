/** The CLI's terminal as a container's stdio: raw mode for -t on a terminal, stdin only with -i. */
import type { Attach } from '../../../engine/containers.js';

export async function withTerminal<T>(opts: { interactive?: boolean; tty?: boolean }, fn: (attach: Attach) => Promise<T>): Promise<T> {
  const stdin = process.stdin;
  const raw = !!opts.tty && !!opts.interactive && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  try {
    return await fn({ ...(opts.interactive ? { stdin } : {}), stdout: process.stdout, stderr: process.stderr });
  } finally {
    if (raw) stdin.setRawMode(false);
    if (opts.interactive) {
      stdin.unpipe();
      stdin.pause();
      stdin.destroy();
    }
  }
}
