import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { buildPodState } from './pod-state.js';
import { RetryGrace } from '../waiting.js';

const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'kiln-build-x-1', namespace: 'ci' }, spec: { nodeName: 'n1', containers: [] }, status });

test('running, ended (exit code and termination message), starting', () => {
  assert.deepEqual(buildPodState(pod({ containerStatuses: [{ name: 'build', ready: true, restartCount: 0, image: '', imageID: '', state: { running: {} } }] }), 'kiln:1'), { state: 'running' });
  const ended = buildPodState(pod({ containerStatuses: [{ name: 'build', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 0, message: 'sha256:ab\n', reason: 'Completed' } } }] }), 'kiln:1');
  assert.deepEqual(ended, { state: 'ended', exitCode: 0, message: 'sha256:ab', reason: 'Completed' });
  const init = buildPodState(pod({ initContainerStatuses: [{ name: 'credentials', ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: 'PodInitializing' } } }] }), 'kiln:1');
  assert.deepEqual(init, { state: 'starting', line: 'pod kiln-build-x-1 on node n1: credentials: PodInitializing' });
});

test('an image the node cannot get, an init container that failed, an unschedulable pod: failed, in one line', () => {
  const never = buildPodState(pod({ initContainerStatuses: [{ name: 'credentials', ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: 'ErrImageNeverPull', message: 'image "kiln:1" not present' } } }] }), 'kiln:1');
  assert.equal(never.state, 'failed');
  assert.match((never as { line: string }).line, /^node n1 cannot get the build image kiln:1: ErrImageNeverPull: image "kiln:1" not present$/);
  const init = buildPodState(pod({ initContainerStatuses: [{ name: 'credentials', ready: false, restartCount: 0, image: '', imageID: '', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }), 'kiln:1');
  assert.deepEqual([init.state, (init as { logsOf?: string }).logsOf], ['failed', 'credentials']);
  const unsched = buildPodState(pod({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }] }), 'kiln:1');
  assert.match((unsched as { line: string }).line, /cannot be scheduled: 0\/1 nodes are available: 1 Insufficient memory\.$/);
});

test('a build container the kubelet cannot create yet (a Secret its cache has not seen): failed and retried; through a grace, starting until it lasts', () => {
  const secret = pod({ containerStatuses: [{ name: 'build', ready: false, restartCount: 0, image: '', imageID: '', state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "kiln-build-x-1" not found' } } }] });
  const v = buildPodState(secret, 'kiln:1');
  assert.deepEqual(v, { state: 'failed', line: 'the build pod kiln-build-x-1 cannot start its build container: CreateContainerConfigError: secret "kiln-build-x-1" not found', hint: 'see kubectl describe pod kiln-build-x-1', retried: true });
  let now = 0;
  const grace = new RetryGrace(20_000, () => now);
  assert.deepEqual(grace.settle(v), { state: 'starting', line: `${(v as { line: string }).line} (the kubelet retries)` });
  now = 20_000;
  assert.equal(grace.settle(v), v);
});

test('a build pod the scheduler cannot place because of a taint only (a node just Ready, not-ready still on it): failed and retried by the scheduler; a shortage, or a shortage beside a taint, fails at once', () => {
  const sched = (message: string) => pod({ conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }] });
  const tainted = buildPodState(sched('0/1 nodes are available: 1 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.'), 'kiln:1');
  assert.deepEqual({ ...tainted }, {
    state: 'failed',
    line: 'the build pod kiln-build-x-1 cannot be scheduled: 0/1 nodes are available: 1 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.',
    hint: "see kubectl describe pod and the nodes' taints (kubectl describe nodes)",
    retried: true,
    retriedBy: 'scheduler',
  });
  let now = 0;
  const grace = new RetryGrace(20_000, () => now);
  assert.deepEqual(grace.settle(tainted), { state: 'starting', line: `${(tainted as { line: string }).line} (the scheduler retries)` });
  now = 20_000;
  assert.equal(grace.settle(tainted), tainted);
  // Older servers name the taint.
  assert.equal((buildPodState(sched("0/1 nodes are available: 1 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate."), 'kiln:1') as { retried?: boolean }).retried, true);
  for (const message of ['0/1 nodes are available: 1 Insufficient cpu.', '0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s). preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.']) {
    const v = buildPodState(sched(message), 'kiln:1');
    assert.equal((v as { retried?: boolean }).retried, undefined, message);
    assert.equal(new RetryGrace(20_000, () => 0).settle(v), v, 'fails at the first poll');
  }
});
