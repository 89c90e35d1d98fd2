/** Global options every command sees, resolved once from flags and environment. */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';

export interface GlobalOptions {
  root: string;
  backend: string;
  debug: boolean;
  format?: string;
}

export function defaultRoot(): string {
  if (process.env.KILN_ROOT) return process.env.KILN_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/kiln';
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'kiln');
}

/** The global options of the program a subcommand belongs to. */
export function globals(cmd: Command): GlobalOptions {
  let top = cmd;
  while (top.parent) top = top.parent;
  const o = top.opts();
  return { root: path.resolve(o.root ?? defaultRoot()), backend: o.backend ?? 'auto', debug: Boolean(o.debug) };
}
