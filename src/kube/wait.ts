/**
 * Waiting for the agent's pod to be ready after `kiln install`: one progress
 * line per change of state (the caller decides how to show it); a pod that
 * cannot run fails at once with the reason and, for a crash, its last log
 * lines (an error the kubelet retries itself: once it has lasted, pod-status.ts);
 * past the timeout, what it was still doing.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { failedPrecondition, unavailable } from '../errors.js';
import type { Apis } from './api.js';
import { agentPods } from './agent-pod.js';
import { where } from './errors.js';
import type { Kube } from './kubeconfig.js';
import { podVerdict } from './pod-status.js';
import { RetryGrace } from './waiting.js';

export interface WaitOptions {
  image: string;
  timeoutMs: number;
  /** A new state: `ContainerCreating`, `running, not ready yet`… */
  progress(line: string, elapsedMs: number): void;
  /** The failed pod's last log lines, before the error is thrown. */
  logs(lines: string[]): void;
  intervalMs?: number;
}

async function lastLogLines(k: Kube, a: Apis, pod: V1Pod, previous: boolean): Promise<string[]> {
  try {
    const text = await a.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: k.namespace, tailLines: 10, previous });
    return text.split('\n').filter((l) => l.trim() !== '');
  } catch {
    return [];
  }
}

export async function waitReady(k: Kube, a: Apis, o: WaitOptions): Promise<{ pod: V1Pod; ms: number }> {
  const start = Date.now();
  let shown = '';
  const grace = new RetryGrace();
  for (;;) {
    const ms = Date.now() - start;
    const pods = await agentPods(k, a);
    const pod = pods.sort((x, y) => String(y.metadata?.creationTimestamp ?? '').localeCompare(String(x.metadata?.creationTimestamp ?? '')))[0];
    const v = pod ? grace.settle(podVerdict(pod, o.image)) : { state: 'starting' as const, line: 'waiting for the DaemonSet to make the agent pod' };
    if (v.state === 'ready') return { pod: pod!, ms };
    if (v.state === 'failed') {
      if (v.logs) o.logs(await lastLogLines(k, a, pod!, v.previous));
      throw failedPrecondition(v.line, { hint: v.hint });
    }
    if (v.line !== shown) o.progress((shown = v.line), ms);
    if (ms > o.timeoutMs) {
      throw unavailable(`the kiln agent in ${where(k)} was not ready after ${Math.round(ms / 1000)} s: ${v.line}`, { hint: `see kubectl -n ${k.namespace} describe pods; kiln install --no-wait skips the wait` });
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 500));
  }
}
