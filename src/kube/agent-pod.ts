/** Finding the installed agent: its DaemonSet (is kiln installed here?) and its ready pod (where to tunnel). */
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { failedPrecondition, notFound } from '../errors.js';
import type { Apis } from './api.js';
import { call, isStatus, where } from './errors.js';
import type { Kube } from './kubeconfig.js';
import { AGENT, AGENT_SELECTOR } from './names.js';
import { podVerdict } from './pod-status.js';
import { RetryGrace } from './waiting.js';

export async function readDaemonSet(k: Kube, a: Apis): Promise<V1DaemonSet | undefined> {
  try {
    return await call(k, `get DaemonSet ${k.namespace}/${AGENT}`, () => a.apps.readNamespacedDaemonSet({ name: AGENT, namespace: k.namespace }));
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

export async function agentPods(k: Kube, a: Apis): Promise<V1Pod[]> {
  const r = await call(k, `list pods in namespace ${k.namespace}`, () => a.core.listNamespacedPod({ namespace: k.namespace, labelSelector: AGENT_SELECTOR }));
  return r.items.filter((p) => !p.metadata?.deletionTimestamp);
}

export function notInstalled(k: Kube) {
  return notFound(`kiln is not installed in ${where(k)}, namespace ${k.namespace}`, { hint: 'run kiln install (or pick the context and namespace it was installed in with -x and -n)' });
}

/**
 * The pod NAME when it is still the agent's and ready (one GET), else
 * undefined: gone, not ready, being deleted, or any error (the caller then
 * looks the agent up with readyAgentPod, which says what is wrong).
 */
export async function agentPodIfReady(k: Kube, a: Apis, name: string): Promise<V1Pod | undefined> {
  return agentPodReadyBy(() => a.core.readNamespacedPod({ name, namespace: k.namespace }));
}

/** agentPodIfReady with the pod read by `read` (the API client, or ./lite-config's GET of its JSON). */
export async function agentPodReadyBy(read: () => Promise<V1Pod>): Promise<V1Pod | undefined> {
  try {
    const p = await read();
    if (p.metadata?.deletionTimestamp || p.metadata?.labels?.['app.kubernetes.io/name'] !== AGENT) return undefined;
    return podVerdict(p, '').state === 'ready' ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The agent's ready pod, or one line saying why there is none. A pod still
 * starting (the DaemonSet replacing a deleted one) is waited for, up to
 * `waitMs`; a failed one is reported at once.
 */
export async function readyAgentPod(k: Kube, a: Apis, waitMs = 60_000): Promise<V1Pod> {
  const start = Date.now();
  const grace = new RetryGrace();
  for (;;) {
    const pods = await agentPods(k, a);
    const ready = pods.find((p) => podVerdict(p, '').state === 'ready');
    if (ready) return ready;
    if (pods.length === 0 && !(await readDaemonSet(k, a))) throw notInstalled(k);
    const v = pods[0] ? grace.settle(podVerdict(pods[0], pods[0].spec?.containers[0]?.image ?? '')) : undefined;
    if (v?.state === 'failed') throw failedPrecondition(`the kiln agent in ${where(k)} is not ready: ${v.line}`, { hint: v.hint });
    if (Date.now() - start > waitMs) {
      if (!v) throw failedPrecondition(`the kiln agent in ${where(k)} has no pod (the DaemonSet ${k.namespace}/${AGENT} runs none)`, { hint: `see kubectl -n ${k.namespace} describe daemonset ${AGENT}; kiln install --force puts it back` });
      throw failedPrecondition(`the kiln agent in ${where(k)} is not ready after ${Math.round(waitMs / 1000)} s: ${v.line}`, { hint: `see kubectl -n ${k.namespace} describe pods` });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
