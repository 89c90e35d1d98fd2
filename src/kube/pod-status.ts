/**
 * What the agent's pod is doing, in words: ready, still starting (and at
 * what), or failed and why — unschedulable, the image cannot be had, a
 * crash loop, a bad container config (`retried`: the kubelet retries it, see
 * waiting.ts). Pure: tested on Pod objects.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { IMAGE_REASONS, RETRIED_REASONS, taintedOut } from './waiting.js';

export type PodVerdict =
  | { state: 'ready'; line: string }
  | { state: 'starting'; line: string }
  | { state: 'failed'; line: string; hint: string; logs: boolean; previous: boolean; retried?: boolean; retriedBy?: 'scheduler' };

export function podVerdict(pod: V1Pod, image: string): PodVerdict {
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const node = pod.spec?.nodeName;
  const on = node ? ` on node ${node}` : '';
  const cond = (type: string) => pod.status?.conditions?.find((c) => c.type === type);
  const cs = pod.status?.containerStatuses?.[0];
  if (cond('Ready')?.status === 'True' && cs?.ready) return { state: 'ready', line: `the kiln agent ${name} is ready${on}` };

  const scheduled = cond('PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const line = `the kiln agent pod ${name} cannot be scheduled: ${scheduled.message ?? 'no node fits'}`;
    const tainted = taintedOut(scheduled.message);
    return { state: 'failed', line, hint: 'see kubectl describe pod; free the node, or pick another with kiln install --force --selector', logs: false, previous: false, ...(tainted ? { retried: true, retriedBy: 'scheduler' as const } : {}) };
  }
  const waiting = cs?.state?.waiting;
  const restarts = cs?.restartCount ?? 0;
  const last = cs?.lastState?.terminated ?? cs?.state?.terminated;
  if (waiting?.reason && IMAGE_REASONS.has(waiting.reason)) {
    const never = waiting.reason === 'ErrImageNeverPull';
    return {
      state: 'failed',
      line: `node ${node ?? '?'} cannot get the agent image ${image}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
      hint: never
        ? "put the image into the node's containerd (kiln --backend containerd --namespace k8s.io system agent-image on the node), or pass --agent-image"
        : 'pass an image the node can pull with --agent-image (kiln system agent-image makes one)',
      logs: false,
      previous: false,
    };
  }
  if (waiting?.reason && RETRIED_REASONS.has(waiting.reason)) {
    return { state: 'failed', line: `the kiln agent${on} cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trimEnd(), hint: 'see kubectl describe pod ' + name, logs: false, previous: false, retried: true };
  }
  if (waiting?.reason === 'CrashLoopBackOff' || (restarts > 0 && last && last.exitCode !== 0)) {
    const exit = last ? `exit ${last.exitCode}${last.reason && last.reason !== 'Error' ? `, ${last.reason}` : ''}` : 'crashed';
    return { state: 'failed', line: `the kiln agent${on} keeps crashing (${exit}, ${restarts} restart${restarts === 1 ? '' : 's'})`, hint: `its last log lines are above; kubectl logs -p -n ${pod.metadata?.namespace} ${pod.metadata?.name}`, logs: true, previous: restarts > 0 };
  }
  if (pod.status?.phase === 'Failed') {
    return { state: 'failed', line: `the kiln agent pod ${name} failed${pod.status.reason ? `: ${pod.status.reason}` : ''}${pod.status.message ? `: ${pod.status.message}` : ''}`, hint: 'see kubectl describe pod ' + name, logs: true, previous: false };
  }
  const doing = waiting?.reason ?? (cs?.state?.running ? 'running, not ready yet' : scheduled?.status === 'True' ? 'starting' : 'waiting to be scheduled');
  return { state: 'starting', line: `${name}${on}: ${doing}` };
}
