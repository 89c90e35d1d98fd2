/** Opens the Engine the global flags ask for. */
import type { Command } from 'commander';
import { unimplemented } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { ContainerEngine } from '../engine/containers.js';
import { openLocalEngine } from '../engine/local/engine.js';
import { globals } from './context.js';

export async function engineFor(cmd: Command): Promise<Engine> {
  const g = globals(cmd);
  if (g.backend === 'auto' || g.backend === 'local') return openLocalEngine(g.root);
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

/** Runs fn with the engine's containers; a backend without containers says so. */
export async function withContainers<T>(cmd: Command, fn: (containers: ContainerEngine, engine: Engine) => Promise<T>): Promise<T> {
  return withEngine(cmd, (engine) => {
    if (!engine.containers) throw unimplemented(`the ${globals(cmd).backend} backend does not run containers`, { hint: 'use --backend local' });
    return fn(engine.containers, engine);
  });
}
