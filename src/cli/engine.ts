/** Opens the Engine the global flags ask for. */
import type { Command } from 'commander';
import { unimplemented } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { ContainerEngine } from '../engine/containers.js';
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

/**
 * Runs fn with the backend's containers; a backend without containers says
 * so. The local one opens the image engine only when a command needs it.
 */
export async function withContainers<T>(cmd: Command, fn: (containers: ContainerEngine) => Promise<T>): Promise<T> {
  const g = globals(cmd);
  if (g.backend !== 'auto' && g.backend !== 'local') {
    return withEngine(cmd, (engine) => {
      if (!engine.containers) throw unimplemented(`the ${g.backend} backend does not run containers`, { hint: 'use --backend local' });
      return fn(engine.containers);
    });
  }
  let opened: Promise<Engine> | undefined;
  const { localContainerEngine } = await import('../engine/local/containers/engine.js');
  const containers = localContainerEngine(g.root, () => (opened ??= engineFor(cmd)));
  try {
    return await fn(containers);
  } finally {
    if (opened) await (await opened).close();
  }
}
