/**
 * A container's waiting reasons as kiln reads them, in every wait on a pod (`kiln install`'s: pod-status.ts,
 * agent-pod.ts; a build Job's pod: job/run.ts; a kube container's start: engine/kube/containers/start.ts):
 * - IMAGE_REASONS: the node cannot get the image; fails at once.
 * - RETRIED_REASONS: errors the kubelet retries by itself. Under load a CRI call times out (`CreateContainerError:
 *   context deadline exceeded`, then `failed to reserve container name`), or the kubelet's cache has not yet seen a
 *   Secret created a moment before (`CreateContainerConfigError: secret … not found`): its next sync starts the
 *   container. A wrong hostPath or a Secret that never comes lasts, and fails once RetryGrace's time is over.
 * - taintedOut(): a pod the scheduler cannot place because of a node's taints. A node that has just become Ready
 *   still carries `node.kubernetes.io/not-ready` until the node-lifecycle controller lifts it (seconds later, more
 *   under load), as it lifts a pressure taint; the scheduler tries again then. A shortage (`Insufficient cpu`) fails
 *   at once; a taint that lasts fails once RetryGrace's time is over.
 */
export const IMAGE_REASONS: ReadonlySet<string> = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'ImageInspectError']);

export const RETRIED_REASONS: ReadonlySet<string> = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export const RETRIED_GRACE_MS = 20_000;

/** A PodScheduled=False message that names only taints among its reasons (`1 node(s) had untolerated taint(s)`). */
export function taintedOut(message: string | undefined): boolean {
  if (!message || !/\btaint/.test(message)) return false;
  // Each `N node(s) …` part of `0/N nodes are available: …` is one reason; the preemption part repeats them.
  const reasons = (message.split(/preemption:/)[0] ?? '').split(/[.,:]\s*/).filter((r) => /^\d+ \S/.test(r.trim()));
  return reasons.length > 0 && reasons.every((r) => /taint/.test(r));
}

/** A verdict that may be a failure the kubelet retries. */
interface Verdict {
  state: string;
  line?: string;
  retried?: boolean;
  /** Who retries it (the progress line's words): the kubelet (default) or the scheduler. */
  retriedBy?: 'kubelet' | 'scheduler';
}

/** Polls over time: a retried failure counts once it has lasted `graceMs`; anything else starts the grace again. */
export class RetryGrace {
  private since: number | undefined;

  constructor(
    private readonly graceMs = RETRIED_GRACE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the retried error seen now (`seen`; false resets) has lasted the grace. */
  lasted(seen: boolean): boolean {
    if (!seen) {
      this.since = undefined;
      return false;
    }
    const t = this.now();
    this.since ??= t;
    return t - this.since >= this.graceMs;
  }

  /** `v`, or while a retried failure has not lasted, a `starting` verdict saying it. */
  settle<V extends Verdict>(v: V): V | { state: 'starting'; line: string } {
    const retried = v.state === 'failed' && v.retried === true;
    if (this.lasted(retried) || !retried) return v;
    return { state: 'starting', line: `${v.line ?? v.state} (the ${v.retriedBy ?? 'kubelet'} retries)` };
  }
}
