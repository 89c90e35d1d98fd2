/** What kiln install says about the agent's pod while it waits and when it fails. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ContainerStatus, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { podVerdict } from './pod-status.js';
import { RETRIED_GRACE_MS, RetryGrace } from './waiting.js';

const pod = (cs?: Partial<V1ContainerStatus>, conditions: V1PodCondition[] = [{ type: 'PodScheduled', status: 'True' }], phase = 'Pending'): V1Pod => ({
  metadata: { name: 'kiln-agent-x1', namespace: 'kiln' },
  spec: { nodeName: 'n1', containers: [{ name: 'agent', image: 'kiln:0.1.0' }] },
  status: { phase, conditions, containerStatuses: cs ? [{ name: 'agent', image: 'kiln:0.1.0', imageID: '', ready: false, restartCount: 0, ...cs }] : undefined },
});

test('ready', () => {
  assert.deepEqual(podVerdict(pod({ ready: true, state: { running: {} } }, [{ type: 'Ready', status: 'True' }], 'Running'), 'kiln:0.1.0'), { state: 'ready', line: 'the kiln agent kiln/kiln-agent-x1 is ready on node n1' });
});

test('starting: what it is waiting for', () => {
  assert.equal(podVerdict(pod({ state: { waiting: { reason: 'ContainerCreating' } } }), 'i').line, 'kiln/kiln-agent-x1 on node n1: ContainerCreating');
  assert.equal(podVerdict(pod({ state: { running: {} } }), 'i').line, 'kiln/kiln-agent-x1 on node n1: running, not ready yet');
  assert.equal(podVerdict(pod(undefined, []), 'i').line, 'kiln/kiln-agent-x1 on node n1: waiting to be scheduled');
});

test('the image cannot be had: names the node and the image, says how to get it there', () => {
  const v = podVerdict(pod({ state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "kiln:0.1.0" is not present with pull policy of Never' } } }), 'kiln:0.1.0');
  assert.equal(v.state, 'failed');
  assert.equal(v.line, 'node n1 cannot get the agent image kiln:0.1.0: ErrImageNeverPull: Container image "kiln:0.1.0" is not present with pull policy of Never');
  assert.match((v as { hint: string }).hint, /system agent-image/);
  assert.equal(podVerdict(pod({ state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } }), 'x').state, 'failed');
});

test('a crash loop: exit code, restarts, and the previous logs wanted', () => {
  const v = podVerdict(pod({ restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } }), 'i');
  assert.deepEqual(v, { state: 'failed', line: 'the kiln agent on node n1 keeps crashing (exit 1, 2 restarts)', hint: 'its last log lines are above; kubectl logs -p -n kiln kiln-agent-x1', logs: true, previous: true });
});

test('unschedulable: the scheduler message', () => {
  const v = podVerdict(pod(undefined, [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }]), 'i');
  assert.equal(v.line, 'the kiln agent pod kiln/kiln-agent-x1 cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.');
});

test('a container that cannot be created: the runtime message', () => {
  const v = podVerdict(pod({ state: { waiting: { reason: 'CreateContainerError', message: 'hostPath type check failed: /run/x is not a socket file' } } }), 'i');
  assert.equal(v.line, 'the kiln agent on node n1 cannot start: CreateContainerError: hostPath type check failed: /run/x is not a socket file');
});

test('an error the kubelet retries (a CRI timeout, a Secret its cache has not seen yet) fails only once it has lasted RETRIED_GRACE_MS', () => {
  let now = 1_000;
  const clock = new RetryGrace(RETRIED_GRACE_MS, () => now);
  const secret = pod({ state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "kiln-agent-tls" not found' } } });
  const first = clock.settle(podVerdict(secret, 'i'));
  assert.deepEqual(first, { state: 'starting', line: 'the kiln agent on node n1 cannot start: CreateContainerConfigError: secret "kiln-agent-tls" not found (the kubelet retries)' });
  now += RETRIED_GRACE_MS - 1;
  assert.equal(clock.settle(podVerdict(secret, 'i')).state, 'starting');
  now += 1;
  const failed = clock.settle(podVerdict(secret, 'i'));
  assert.equal(failed.state, 'failed');
  assert.equal(failed.line, 'the kiln agent on node n1 cannot start: CreateContainerConfigError: secret "kiln-agent-tls" not found');
  // gone (the kubelet's next sync started it), then back: the grace starts again
  assert.equal(clock.settle(podVerdict(pod({ state: { waiting: { reason: 'ContainerCreating' } } }), 'i')).state, 'starting');
  assert.equal(clock.settle(podVerdict(pod({ state: { waiting: { reason: 'RunContainerError', message: 'context deadline exceeded' } } }), 'i')).state, 'starting');
  // what the kubelet does not retry into success fails at once, through the clock too
  assert.equal(clock.settle(podVerdict(pod({ state: { waiting: { reason: 'ErrImageNeverPull' } } }), 'i')).state, 'failed');
});

test('an agent pod kept off its node by a taint only: retried by the scheduler, through the grace; a shortage is not', () => {
  const unsched = (message: string) => podVerdict(pod(undefined, [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }]), 'i');
  const v = unsched('0/1 nodes are available: 1 node(s) had untolerated taint(s). preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.');
  assert.deepEqual([v.state, (v as { retried?: boolean }).retried, (v as { retriedBy?: string }).retriedBy], ['failed', true, 'scheduler']);
  let now = 0;
  const grace = new RetryGrace(RETRIED_GRACE_MS, () => now);
  assert.match(grace.settle(v).line!, /cannot be scheduled: .* \(the scheduler retries\)$/);
  now = RETRIED_GRACE_MS;
  assert.equal(grace.settle(v), v);
  assert.equal((unsched('0/1 nodes are available: 1 Insufficient memory.') as { retried?: boolean }).retried, undefined);
});
