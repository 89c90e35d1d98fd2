/**
 * Where a build Job's pod is, in words: still starting (and at what), its
 * build container running (the context can be sent), ended (exit code and
 * termination message), or unable to run and why — unschedulable, an image
 * the node cannot get, the init container failed, a container the runtime
 * cannot create. Pure: tested on Pod objects.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { BUILD_CONTAINER } from './spec.js';
import { IMAGE_REASONS, RETRIED_REASONS, taintedOut } from '../waiting.js';

export type BuildPodState =
  | { state: 'starting'; line: string }
  | { state: 'running' }
  | { state: 'ended'; exitCode: number; message: string; reason?: string }
  | { state: 'failed'; line: string; hint: string; logsOf?: string; retried?: boolean; retriedBy?: 'scheduler' };

function containerTrouble(cs: V1ContainerStatus | undefined, pod: V1Pod, image: string): BuildPodState | undefined {
  const waiting = cs?.state?.waiting;
  const node = pod.spec?.nodeName ?? '?';
  if (waiting?.reason && IMAGE_REASONS.has(waiting.reason)) {
    return {
      state: 'failed',
      line: `node ${node} cannot get the build image ${image}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
      hint: waiting.reason === 'ErrImageNeverPull' || /kiln:/.test(image)
        ? "put kiln's image into the node's containerd (kiln --backend containerd --namespace k8s.io system agent-image on the node), or push it (kiln system agent-image --push REF) and pass --job-image REF"
        : 'pass an image the node can pull with --job-image',
    };
  }
  if (waiting?.reason && RETRIED_REASONS.has(waiting.reason)) {
    return { state: 'failed', line: `the build pod ${pod.metadata?.name} cannot start its ${cs!.name} container: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`, hint: `see kubectl describe pod ${pod.metadata?.name}`, retried: true };
  }
  return undefined;
}

export function buildPodState(pod: V1Pod, image: string): BuildPodState {
  const name = pod.metadata?.name ?? '?';
  const node = pod.spec?.nodeName;
  const on = node ? ` on node ${node}` : '';
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const line = `the build pod ${name} cannot be scheduled: ${scheduled.message ?? 'no node fits'}`;
    if (taintedOut(scheduled.message)) return { state: 'failed', line, hint: 'see kubectl describe pod and the nodes\' taints (kubectl describe nodes)', retried: true, retriedBy: 'scheduler' };
    return { state: 'failed', line, hint: 'see kubectl describe pod; lower --job-cpu/--job-memory, or free a node' };
  }
  const init = pod.status?.initContainerStatuses?.[0];
  const initEnd = init?.state?.terminated;
  if (initEnd && initEnd.exitCode !== 0) {
    return { state: 'failed', line: `the build pod ${name}${on}: its ${init!.name} container failed (exit ${initEnd.exitCode}${initEnd.reason && initEnd.reason !== 'Error' ? `, ${initEnd.reason}` : ''})`, hint: `its log is above; kubectl logs ${name} -c ${init!.name}`, logsOf: init!.name };
  }
  const trouble = containerTrouble(init, pod, image);
  if (trouble) return trouble;
  const cs = pod.status?.containerStatuses?.find((c) => c.name === BUILD_CONTAINER);
  const ended = cs?.state?.terminated;
  if (ended) return { state: 'ended', exitCode: ended.exitCode, message: (ended.message ?? '').trim(), ...(ended.reason ? { reason: ended.reason } : {}) };
  const buildTrouble = containerTrouble(cs, pod, image);
  if (buildTrouble) return buildTrouble;
  if (cs?.state?.running) return { state: 'running' };
  if (pod.status?.phase === 'Failed') {
    return { state: 'failed', line: `the build pod ${name} failed${pod.status.reason ? `: ${pod.status.reason}` : ''}${pod.status.message ? `: ${pod.status.message}` : ''}`, hint: `see kubectl describe pod ${name}` };
  }
  const doing = init && !initEnd ? `${init.name}: ${init.state?.waiting?.reason ?? (init.state?.running ? 'running' : 'starting')}` : cs?.state?.waiting?.reason ?? (scheduled?.status === 'True' ? 'starting' : 'waiting to be scheduled');
  return { state: 'starting', line: `pod ${name}${on}: ${doing}` };
}
