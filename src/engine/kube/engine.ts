/**
 * The kube backend: find the kiln agent `kiln install` put on the builder
 * node, open a tunnel to it through the API server's port-forward, and use
 * the agent's client over that tunnel with the client certificates install
 * kept. The client (the remote backend's engine) is passed in by the caller,
 * so no backend imports another. Everything the remote backend does (images,
 * pull, push, build with context sync, events) works the same; `info` says
 * where the agent runs.
 */
import path from 'node:path';
import type { Engine, EngineInfo } from '../engine.js';
import type { ContainerEngine } from '../containers.js';
import { failedPrecondition, isKilnError, KilnError } from '../../errors.js';
import type { TlsFiles } from '../../tls/client.js';
import type { V1Pod } from '@kubernetes/client-node';
import type { Apis } from '../../kube/api.js';
import { forgetCachedAgent, readCachedAgent, writeCachedAgent } from '../../kube/agent-cache.js';
import { agentPodIfReady, agentPodReadyBy, readDaemonSet, readyAgentPod, notInstalled } from '../../kube/agent-pod.js';
import { clientCertDir, clientTlsFiles, hasClientCerts } from '../../kube/client-certs.js';
import { where } from '../../kube/errors.js';
import type { Kube, KubeFlags } from '../../kube/kubeconfig.js';
import { loadLiteKube, type LiteKube } from '../../kube/lite-config.js';
import { AGENT_PORT } from '../../kube/names.js';
import { openTunnel, type Tunnel, type TunnelTarget } from '../../kube/tunnel.js';

export interface KubeInfo {
  context: string;
  server: string;
  namespace: string;
  pod: string;
  node: string;
  /** The local end of the port-forward. */
  tunnel: string;
}

/** Opens the agent's client at a tcp:// address (the remote backend's openRemoteEngine). */
export type OpenAgentClient = (opts: { host: string; tls: TlsFiles; label: string }) => Promise<Engine>;

/** The client library's KubeConfig and API clients: loaded only when a command needs more than ../../kube/lite-config gives. */
type Full = () => Promise<{ k: Kube; a: Apis }>;
function fullKube(flags: KubeFlags): Full {
  let loaded: Promise<{ k: Kube; a: Apis }> | undefined;
  return () =>
    (loaded ??= Promise.all([import('../../kube/kubeconfig.js'), import('../../kube/api.js')]).then(([{ loadKube }, { apis }]) => {
      const k = loadKube(flags);
      return { k, a: apis(k) };
    }));
}

/**
 * The agent's pod and a tunnel to it. The pod the last command reached (./agent-cache) is tried
 * first, its GET and the tunnel at the same time (with a plain kubeconfig, without loading the
 * client library's API groups); when it is not the ready agent any more, the ready pod is looked
 * up (waiting for one starting) and remembered.
 */
async function agentTunnel(k: TunnelTarget, lite: LiteKube | undefined, full: Full, certs: string): Promise<{ pod: V1Pod; tunnel: Tunnel }> {
  const cached = await readCachedAgent(certs);
  if (cached) {
    const check = lite
      ? agentPodReadyBy(async () => (await lite.get(`/api/v1/namespaces/${encodeURIComponent(lite.namespace)}/pods/${encodeURIComponent(cached.pod)}`)) as V1Pod)
      : full().then(({ k: fk, a }) => agentPodIfReady(fk, a, cached.pod));
    const [pod, tunnel] = await Promise.all([check, openTunnel(k, cached.pod, AGENT_PORT, undefined, { reuseProbe: true }).catch(() => undefined)]);
    if (pod && tunnel) return { pod, tunnel };
    await tunnel?.close();
  }
  const { k: fk, a } = await full();
  const pod = await readyAgentPod(fk, a);
  const tunnel = await openTunnel(k, pod.metadata!.name!, AGENT_PORT, undefined, { reuseProbe: true });
  await writeCachedAgent(certs, { pod: pod.metadata!.name!, node: pod.spec?.nodeName ?? '' });
  return { pod, tunnel };
}

export async function openKubeEngine(flags: KubeFlags, openAgentClient: OpenAgentClient): Promise<Engine> {
  const lite = await loadLiteKube(flags);
  const full = fullKube(flags);
  const k: TunnelTarget = lite ?? (await full()).k;
  const certs = clientCertDir(k.server, k.namespace);
  if (!(await hasClientCerts(certs))) {
    const { k: fk, a } = await full();
    if (!(await readDaemonSet(fk, a))) throw notInstalled(fk);
    throw failedPrecondition(`no client certificate for the kiln agent in ${where(k)}, namespace ${k.namespace} (looked in ${certs})`, {
      hint: 'copy ca.pem, cert.pem and key.pem there from the machine that ran kiln install, or run kiln install --force here',
    });
  }
  const { pod, tunnel } = await agentTunnel(k, lite, full, certs);
  const podName = pod.metadata!.name!;
  const kube: Omit<KubeInfo, 'tunnel'> = { context: k.context, server: k.server, namespace: k.namespace, pod: podName, node: pod.spec?.nodeName ?? '?' };
  const label = `${k.namespace}/${podName} on node ${kube.node} (context "${k.context}")`;
  let remote: Engine;
  try {
    remote = await openAgentClient({ host: tunnel.host, tls: clientTlsFiles(certs), label });
  } catch (e) {
    await tunnel.close();
    throw e;
  }
  // A lost agent says so with what to do here, not the remote backend's --host advice. An agent
  // stopped gracefully (its pod deleted: SIGTERM) cancels the calls in flight: for a call the user did
  // not cancel, that is a lost agent too, not "cancelled".
  const rewrap = async (e: unknown, signal?: AbortSignal): Promise<never> => {
    let lost = isKilnError(e, 'UNAVAILABLE') ? e.message : undefined;
    if (isKilnError(e, 'CANCELLED') && !signal?.aborted) lost = `lost the connection to the kiln agent at ${label} during ${e.message.replace(/ cancelled$/, '')}: the agent stopped`;
    if (lost === undefined) throw e;
    await forgetCachedAgent(certs);
    const said = tunnel.errors.at(-1);
    throw new KilnError('UNAVAILABLE', lost + (said ? ` (port-forward: ${said.split('\n')[0]})` : ''), { cause: e, hint: `the agent pod may have restarted: run the command again; kubectl -n ${k.namespace} get pods shows it` });
  };
  const signalOf = (args: unknown[]) => (args.find((a) => a !== null && typeof a === 'object' && 'signal' in a) as { signal?: AbortSignal } | undefined)?.signal;
  const engine: Engine = { ...remote, kind: 'kube' };
  for (const [name, fn] of Object.entries(remote) as [keyof Engine, unknown][]) {
    if (typeof fn !== 'function' || name === 'events' || name === 'close') continue;
    (engine as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const r = (fn as (...a: unknown[]) => unknown)(...args);
      return r instanceof Promise ? r.catch((e: unknown) => rewrap(e, signalOf(args))) : r;
    };
  }
  engine.info = async (): Promise<EngineInfo & { kube: KubeInfo }> => {
    const i = await remote.info().catch((e: unknown) => rewrap(e));
    return { ...i, backend: 'kube', root: label, kube: { ...kube, tunnel: tunnel.host } };
  };
  engine.close = async () => {
    await remote.close();
    await tunnel.close();
  };
  return engine;
}

/**
 * The kube backend's containers (./containers/): pods made through the API
 * server with the user's kubeconfig; the agent is opened only to ask which
 * images the builder node has, and closed with the rest.
 */
export async function openKubeContainers(flags: KubeFlags, openAgentClient: OpenAgentClient, o: { root: string; warn(line: string): void }): Promise<{ containers: ContainerEngine; close(): Promise<void> }> {
  const [{ k, a }, { kubeContainers }] = await Promise.all([fullKube(flags)(), import('./containers/engine.js')]);
  let node: Promise<string> | undefined;
  let agent: Promise<Engine> | undefined;
  const containers = kubeContainers({
    k,
    a,
    flags,
    keeperDir: path.join(o.root, 'kube-keepers'),
    warn: o.warn,
    agent: {
      node: () => (node ??= readyAgentPod(k, a).then((p) => p.spec?.nodeName ?? '')),
      inspectImage: async (ref) => (await (agent ??= openKubeEngine(flags, openAgentClient))).inspectImage(ref),
    },
  });
  return {
    containers,
    close: async () => {
      if (agent) await (await agent.catch(() => undefined))?.close();
    },
  };
}
