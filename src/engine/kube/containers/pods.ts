/** kiln's container pods through the API server: list, find by docker name or id, wait for a state (a watch), delete. */
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { notFound, unavailable } from '../../../errors.js';
import type { Apis } from '../../../kube/api.js';
import { call, isStatus, kubeError, where } from '../../../kube/errors.js';
import type { Kube } from '../../../kube/kubeconfig.js';
import { ANN, CONTAINER_SELECTOR } from './names.js';

export async function listPods(k: Kube, a: Apis): Promise<V1Pod[]> {
  const r = await call(k, `list pods in namespace ${k.namespace}`, () => a.core.listNamespacedPod({ namespace: k.namespace, labelSelector: CONTAINER_SELECTOR }));
  return r.items;
}

export const idOf = (p: V1Pod) => p.metadata?.annotations?.[ANN.id] ?? '';
export const nameOf = (p: V1Pod) => p.metadata?.annotations?.[ANN.name] ?? p.metadata?.name ?? '';

/** A docker name, a full or unique prefix of an id, or the pod's own name. */
export async function findPod(k: Kube, a: Apis, ref: string): Promise<V1Pod> {
  const pods = await listPods(k, a);
  const exact = pods.find((p) => nameOf(p) === ref.replace(/^\//, '') || idOf(p) === ref || p.metadata?.name === ref);
  if (exact) return exact;
  const byPrefix = ref.length >= 1 && /^[0-9a-f]+$/.test(ref) ? pods.filter((p) => idOf(p).startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw notFound(`multiple containers match the id prefix ${ref}`, { hint: 'give more of the id' });
  throw notFound(`No such container: ${ref}`, { hint: `kiln --backend kube ps -a lists the containers in ${where(k)}, namespace ${k.namespace}` });
}

export async function readPod(k: Kube, a: Apis, name: string): Promise<V1Pod | undefined> {
  try {
    return await call(k, `get pod ${k.namespace}/${name}`, () => a.core.readNamespacedPod({ name, namespace: k.namespace }));
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

/** Deletes the pod; grace 0 removes the object at once (the kubelet then ends what still runs). */
export async function deletePod(k: Kube, a: Apis, name: string, graceSeconds = 0): Promise<void> {
  try {
    await call(k, `delete pod ${k.namespace}/${name}`, () => a.core.deleteNamespacedPod({ name, namespace: k.namespace, gracePeriodSeconds: graceSeconds }));
  } catch (e) {
    if (!isStatus(e, 404)) throw e;
  }
}

/**
 * Resolves with `test(pod)` once it is defined, watching the pod (undefined
 * once it is gone); `test` may throw to fail the wait.
 */
export function waitPod<T>(k: Kube, a: Apis, name: string, test: (pod: V1Pod | undefined) => T | undefined, o: { timeoutMs?: number; what?: string; signal?: AbortSignal } = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let ctl: AbortController | undefined;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      ctl?.abort();
      f();
    };
    const onAbort = () => finish(() => reject(o.signal!.reason));
    o.signal?.addEventListener('abort', onAbort);
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => finish(() => reject(unavailable(`pod ${k.namespace}/${name} in ${where(k)}: ${o.what ?? 'timed out'} after ${Math.round(o.timeoutMs! / 1000)} s`, { hint: `see kubectl -n ${k.namespace} describe pod ${name}` }))), o.timeoutMs);
    const check = (pod: V1Pod | undefined) => {
      try {
        const r = test(pod);
        if (r !== undefined) finish(() => resolve(r));
      } catch (e) {
        finish(() => reject(e));
      }
    };
    const fieldSelector = `metadata.name=${name}`;
    const start = async (): Promise<void> => {
      const list = await a.core.listNamespacedPod({ namespace: k.namespace, fieldSelector });
      check(list.items[0]);
      if (done) return;
      const c = await new Watch(k.kc).watch(
        `/api/v1/namespaces/${k.namespace}/pods`,
        { fieldSelector, resourceVersion: list.metadata?.resourceVersion },
        (type: string, obj: V1Pod) => check(type === 'DELETED' ? undefined : obj),
        // The server ends a watch now and then: start again from a fresh list.
        () => {
          if (!done) start().catch((e: unknown) => finish(() => reject(kubeError(e, k, `watch pod ${k.namespace}/${name}`))));
        },
      );
      if (done) c.abort();
      else ctl = c;
    };
    start().catch((e: unknown) => finish(() => reject(kubeError(e, k, `watch pod ${k.namespace}/${name}`))));
  });
}
