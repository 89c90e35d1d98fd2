/** Opens the Engine the global flags ask for. */
import type { Command } from 'commander';
import { invalidArgument, unimplemented } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { ContainerEngine } from '../engine/containers.js';
import { engineClosed, globals, type GlobalOptions } from './context.js';

export type BackendChoice = { backend: 'local' } | { backend: 'containerd'; address: string } | { backend: 'remote'; host: string } | { backend: 'kube' };

/**
 * `--backend` (or KILN_BACKEND): local, containerd, kube, remote, or auto —
 * containerd when --address is given or a known containerd socket is
 * writable, kube when kiln is installed in the current kubeconfig context
 * (this machine holds its client certificates), local otherwise.
 */
export async function chooseBackend(g: GlobalOptions): Promise<BackendChoice> {
  if (g.host && (g.backend === 'auto' || g.backend === 'remote')) return { backend: 'remote', host: g.host };
  if (g.host) throw invalidArgument(`--host (or KILN_HOST) names a kiln agent, but --backend is ${g.backend}`, { hint: 'drop --backend, or unset --host / KILN_HOST' });
  const { detectSocket, socketFor } = await import('../engine/containerd/socket.js');
  switch (g.backend) {
    case 'local':
      return { backend: 'local' };
    case 'containerd':
      return { backend: 'containerd', address: await socketFor(g.address) };
    case 'auto': {
      const address = g.address ?? (await detectSocket());
      if (address) return { backend: 'containerd', address };
      const { installedHere } = await import('../kube/installed.js');
      return (await installedHere(g)) ? { backend: 'kube' } : { backend: 'local' };
    }
    case 'remote':
      throw invalidArgument('the remote backend needs the agent\'s address', { hint: 'pass --host tcp://HOST:PORT or unix:///PATH (or set KILN_HOST)' });
    case 'kube':
      return { backend: 'kube' };
    default:
      throw invalidArgument(`unknown backend "${g.backend}"`, { hint: 'use --backend auto, local, containerd, kube or remote' });
  }
}

/**
 * `serve`: the engine `kiln agent` serves, never a remote one (--host / KILN_HOST are the client's).
 * `check`: the local root's modes are reported by check(), not repaired on opening.
 */
export async function engineFor(cmd: Command, opts: { serve?: boolean; check?: boolean } = {}): Promise<Engine> {
  const g = globals(cmd);
  const choice = await chooseBackend(opts.serve ? { ...g, host: undefined } : g);
  if (choice.backend === 'remote') {
    const [{ openRemoteEngine }, { tlsFiles }] = await Promise.all([import('../engine/remote/engine.js'), import('../tls/client.js')]);
    const tls = tlsFiles(g);
    return openRemoteEngine({ host: choice.host, ...(tls ? { tls } : {}) });
  }
  if (choice.backend === 'kube') {
    const [{ openKubeEngine }, { openRemoteEngine }] = await Promise.all([import('../engine/kube/engine.js'), import('../engine/remote/engine.js')]);
    return openKubeEngine(g, openRemoteEngine);
  }
  // Loaded on demand: a command that needs no engine starts without the registry and store code.
  if (choice.backend === 'containerd') {
    const { openContainerdEngine } = await import('../engine/containerd/engine.js');
    return openContainerdEngine({ address: choice.address, namespace: g.namespace ?? process.env.CONTAINERD_NAMESPACE, workRoot: g.root });
  }
  const { openLocalEngine } = await import('../engine/local/engine.js');
  return openLocalEngine(g.root, { repairModes: !opts.check });
}

/** Runs fn with an engine and closes it afterwards. */
export async function withEngine<T>(cmd: Command, fn: (engine: Engine) => Promise<T>, opts: { check?: boolean } = {}): Promise<T> {
  const engine = await engineFor(cmd, opts);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
    engineClosed(engine.kind);
  }
}

/** Container-side commands (containers, volumes, events) have no remote form: one line says so. */
export function notRemote(cmd: Command, what: string): void {
  const { host } = globals(cmd);
  if (host) throw unimplemented(`the remote backend (--host ${host}) ${what}`, { hint: "run containers on the agent's machine, or drop --host / KILN_HOST" });
}

/**
 * Runs fn with the backend's containers; a backend without containers says
 * so. The local one opens the image engine only when a command needs it;
 * containerd's needs a --root for its containers' logs (kiln's default root serves).
 */
export async function withContainers<T>(cmd: Command, fn: (containers: ContainerEngine) => Promise<T>): Promise<T> {
  const g = globals(cmd);
  notRemote(cmd, 'does not run containers');
  const auto = g.backend === 'auto' ? (await chooseBackend(g)).backend : undefined;
  if (g.backend === 'kube' || auto === 'kube') return withKubeContainers(cmd, fn);
  // auto: containers go where the images are (containerd when --address is given or its socket found).
  if (g.backend !== 'local' && (g.backend !== 'auto' || auto !== 'local')) {
    return withEngine(cmd, (engine) => {
      if (!engine.containers) throw unimplemented(`the ${g.backend} backend does not run containers`, { hint: 'use --backend local' });
      return fn(engine.containers);
    });
  }
  let opened: Promise<Engine> | undefined;
  await (await import('../engine/root-mode.js')).secureRoot(g.root);
  const { localContainerEngine } = await import('../engine/local/containers/engine.js');
  const containers = localContainerEngine(g.root, () => (opened ??= engineFor(cmd)));
  try {
    return await fn(containers);
  } finally {
    if (opened) await (await opened).close();
  }
}

/** The kube backend's containers: pods through the API server; the agent only for the node's image list. */
async function withKubeContainers<T>(cmd: Command, fn: (containers: ContainerEngine) => Promise<T>): Promise<T> {
  const g = globals(cmd);
  const [{ openKubeContainers }, { openRemoteEngine }] = await Promise.all([import('../engine/kube/engine.js'), import('../engine/remote/engine.js')]);
  const kube = await openKubeContainers(g, openRemoteEngine, { root: g.root, warn: (line) => process.stderr.write(`kiln: warning: ${line}\n`) });
  try {
    return await fn(kube.containers);
  } finally {
    await kube.close();
  }
}
