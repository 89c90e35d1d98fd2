/**
 * A kiln pod from made to running (or failed, in one line), and from running
 * to its exit code: docker's codes and messages where the runtime said why
 * the process could not start.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { failedPrecondition, KilnError, notFound } from '../../../errors.js';
import type { Apis } from '../../../kube/api.js';
import type { Kube } from '../../../kube/kubeconfig.js';
import { IMAGE_REASONS, RETRIED_REASONS, RetryGrace, taintedOut } from '../../../kube/waiting.js';
import { nameOf, waitPod } from './pods.js';

export const gone = (k: Kube, pod: string, name: string) =>
  notFound(`container ${name}: its pod ${k.namespace}/${pod} was deleted outside kiln`, { hint: `kubectl -n ${k.namespace} get events shows who; kiln --backend kube run it again` });

/**
 * Running, exited, or a reason it never will run (thrown); undefined while it is on its way. An error the kubelet
 * retries (kube/waiting.ts) is thrown once it has lasted `grace`'s time.
 */
export function startVerdict(k: Kube, pod: V1Pod | undefined, name: string, podName: string, grace: RetryGrace): V1Pod | undefined {
  if (!pod) throw gone(k, podName, name);
  const cs = pod.status?.containerStatuses?.[0];
  if (cs?.state?.running || cs?.state?.terminated || pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return pod;
  const w = cs?.state?.waiting;
  const node = pod.spec?.nodeName ?? '?';
  const image = pod.spec?.containers[0]?.image ?? '?';
  if (w?.reason && IMAGE_REASONS.has(w.reason)) {
    throw failedPrecondition(`image ${image} is not on node ${node} (the kube backend's builder node) and the kubelet could not get it: ${w.reason}${w.message ? `: ${w.message.split('\n')[0]}` : ''}`, {
      hint: `put it there: kiln --backend kube pull ${image}, or kiln --backend kube build -t ${image} .`,
    });
  }
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const unschedulable = sched?.status === 'False' && sched.reason === 'Unschedulable';
  const retried = (!!w?.reason && RETRIED_REASONS.has(w.reason)) || (unschedulable && taintedOut(sched.message));
  const lasted = grace.lasted(retried); // (not seen: the grace starts again)
  if (retried && !lasted) return undefined;
  if (unschedulable) throw failedPrecondition(`container ${name} cannot be scheduled: ${sched.message ?? ''}`, { hint: `see kubectl -n ${k.namespace} describe pod ${podName}` });
  if (retried) throw failedPrecondition(`container ${name} cannot start on node ${node}: ${w!.reason}: ${w!.message ?? ''}`.trimEnd(), { hint: `see kubectl -n ${k.namespace} describe pod ${podName}` });
  return undefined;
}

export function waitStarted(k: Kube, a: Apis, pod: V1Pod, signal?: AbortSignal): Promise<V1Pod> {
  const podName = pod.metadata!.name!;
  const grace = new RetryGrace();
  return waitPod(k, a, podName, (p) => startVerdict(k, p, nameOf(pod), podName, grace), { timeoutMs: 300_000, what: 'not started', ...(signal ? { signal } : {}) });
}

/**
 * The exit code of a terminated pod. A process that could not be started is
 * docker's 127 (not found) or 126 (not executable), thrown with the runtime's
 * reason as docker prints it.
 */
export function exitCode(pod: V1Pod): number {
  const cs = pod.status?.containerStatuses?.[0];
  const t = cs?.state?.terminated ?? cs?.lastState?.terminated;
  if (!t) return pod.status?.phase === 'Succeeded' ? 0 : 1;
  if (t.reason === 'StartError' || t.reason === 'ContainerCannotRun') {
    const msg = t.message ?? t.reason;
    const exec = /exec: "[^"]*": [^:]*/.exec(msg);
    const code = /not found|no such file/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : t.exitCode;
    throw new KilnError('FAILED_PRECONDITION', exec ? exec[0] : msg.split('\n')[0]!, { exitCode: code });
  }
  return t.exitCode;
}

/** Resolves once the pod's container has terminated; a pod deleted meanwhile fails in one line. */
export function waitExited(k: Kube, a: Apis, pod: V1Pod, signal?: AbortSignal): Promise<V1Pod> {
  const podName = pod.metadata!.name!;
  return waitPod(
    k,
    a,
    podName,
    (p) => {
      if (!p) throw gone(k, podName, nameOf(pod));
      const cs = p.status?.containerStatuses?.[0];
      // With --restart, the run that ended is lastState once the kubelet restarts it.
      const restarted = p.spec?.restartPolicy !== 'Never' && cs?.lastState?.terminated && (cs.restartCount ?? 0) > (pod.status?.containerStatuses?.[0]?.restartCount ?? 0);
      const done = cs?.state?.terminated || restarted || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
      return done ? p : undefined;
    },
    signal ? { signal } : {},
  );
}
