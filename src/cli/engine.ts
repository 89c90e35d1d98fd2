/** Opens the Engine the global flags ask for. */
import type { Command } from 'commander';
import { unimplemented } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { globals } from './context.js';

export async function engineFor(cmd: Command): Promise<Engine> {
  const g = globals(cmd);
  if (g.backend === 'auto' || g.backend === 'local') {
    // Loaded on demand: a command that needs no engine starts without the registry and store code.
    const { openLocalEngine } = await import('../engine/local/engine.js');
    return openLocalEngine(g.root);
  }
  throw unimplemented(`backend "${g.backend}" is not available in this version of kiln`, { hint: 'use --backend local' });
}

/** Runs fn with an engine and closes it afterwards. */
export async function withEngine<T>(cmd: Command, fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await engineFor(cmd);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}
