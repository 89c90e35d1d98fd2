/**
 * A kiln pod → what `ps` and `inspect` show (docker's states from the pod's
 * phase and its container's state), with a note when Kubernetes knows more
 * than docker's words say: evicted, deleted outside kiln, an image the node
 * cannot get. Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerDetail, ContainerSpec, ContainerState, ContainerSummary, MountPoint, PortBinding } from '../../containers.js';
import { containerDetail } from '../../containers/detail.js';
import { ANN } from './names.js';

const json = <T>(text: string | undefined, fallback: T): T => {
  try {
    return text === undefined ? fallback : (JSON.parse(text) as T);
  } catch {
    return fallback;
  }
};
const iso = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).toISOString());

export interface PodLive {
  state: ContainerState;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  /** Why, in Kubernetes' words, when docker's state does not say it. */
  note?: string;
}

export function podLive(pod: V1Pod): PodLive {
  const cs = pod.status?.containerStatuses?.[0];
  const phase = pod.status?.phase;
  const notes: string[] = [];
  if (pod.metadata?.deletionTimestamp) notes.push('its pod is being deleted outside kiln');
  if (phase === 'Failed' && pod.status?.reason && pod.status.reason !== 'DeadlineExceeded') notes.push(`${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''}`);
  const run = cs?.state?.running;
  const done = cs?.state?.terminated;
  const wait = cs?.state?.waiting;
  let live: PodLive;
  if (run) live = { state: 'running', startedAt: iso(run.startedAt)! };
  else if (done) {
    live = { state: 'exited', exitCode: done.exitCode, ...(done.startedAt ? { startedAt: iso(done.startedAt)! } : {}), ...(done.finishedAt ? { finishedAt: iso(done.finishedAt)! } : {}) };
    if (done.reason === 'StartError' || done.reason === 'ContainerCannotRun') notes.push(done.message ?? done.reason);
    if (pod.spec?.restartPolicy !== 'Never' && phase === 'Running') notes.push('restarting');
  } else if (phase === 'Failed' || phase === 'Succeeded') live = { state: 'exited' };
  else if (wait && cs?.lastState?.terminated) {
    // --restart: between two runs (CrashLoopBackOff), docker's "Restarting".
    const last = cs.lastState.terminated;
    live = { state: 'exited', exitCode: last.exitCode, ...(last.finishedAt ? { finishedAt: iso(last.finishedAt)! } : {}) };
    notes.push(`restarting: ${wait.reason ?? 'waiting'}, ${cs.restartCount} restart${cs.restartCount === 1 ? '' : 's'}`);
  } else {
    live = { state: 'created' };
    if (wait?.reason && wait.reason !== 'ContainerCreating') notes.push(`${wait.reason}${wait.message ? `: ${wait.message}` : ''}`);
  }
  return notes.length ? { ...live, note: notes.join('; ') } : live;
}

/** The `-p` bindings the pod was made with. */
export const portsOf = (pod: V1Pod): PortBinding[] => json<PortBinding[]>(pod.metadata?.annotations?.[ANN.ports], []);

export function podSummary(pod: V1Pod): ContainerSummary {
  return podDetail(pod);
}

export function podDetail(pod: V1Pod): ContainerDetail & { note?: string } {
  const a = pod.metadata?.annotations ?? {};
  const live = podLive(pod);
  const cs = pod.status?.containerStatuses?.[0];
  const spec = json<ContainerSpec>(a[ANN.spec], { image: a[ANN.image] ?? '' });
  const mounts: MountPoint[] = (pod.spec?.containers[0]?.volumeMounts ?? []).map((m) => {
    const v = pod.spec?.volumes?.find((x) => x.name === m.name);
    const claim = v?.persistentVolumeClaim?.claimName;
    const from = spec.volumes?.[Number(m.name.slice(1))]?.split(':')[0];
    return { type: v?.emptyDir?.medium === 'Memory' ? 'tmpfs' : 'volume', ...(m.name.startsWith('v') && from ? { name: from } : {}), source: claim ? `persistentVolumeClaim ${claim}` : 'emptyDir', destination: m.mountPath, readOnly: !!m.readOnly };
  });
  const d = containerDetail(
    {
      id: a[ANN.id] ?? pod.metadata?.uid ?? '',
      name: a[ANN.name] ?? pod.metadata?.name ?? '',
      image: a[ANN.image] ?? pod.spec?.containers[0]?.image ?? '',
      imageId: cs?.imageID ?? '',
      args: json<string[]>(a[ANN.command], []),
      created: iso(pod.metadata?.creationTimestamp) ?? new Date(0).toISOString(),
      ...(live.startedAt ? { startedAt: live.startedAt } : {}),
      ports: json<PortBinding[]>(a[ANN.ports], []),
      spec: { ...spec, hostname: pod.spec?.hostname ?? pod.metadata?.name ?? '' },
      restartCount: cs?.restartCount ?? 0,
      ...(pod.status?.podIP ? { ip: pod.status.podIP } : {}),
      mounts,
    },
    { state: live.state, ...(live.exitCode !== undefined ? { exitCode: live.exitCode } : {}), ...(live.finishedAt ? { finishedAt: live.finishedAt } : {}), ...(live.note ? { error: live.note } : {}) },
    { dir: `pod ${pod.metadata?.namespace}/${pod.metadata?.name} on node ${pod.spec?.nodeName ?? '?'}`, log: `kubectl -n ${pod.metadata?.namespace} logs ${pod.metadata?.name}` },
  );
  return { ...d, labels: json<Record<string, string>>(a[ANN.labels], {}), ...(live.note ? { note: live.note } : {}) };
}
