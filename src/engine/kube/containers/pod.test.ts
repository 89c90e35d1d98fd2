import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { parsePublish, podFor, type PodInput } from './pod.js';
import { podName } from './names.js';
import { podLive } from './status.js';

const input = (spec: PodInput['spec'], more: Partial<PodInput> = {}): PodInput => ({
  spec, id: 'a'.repeat(64), name: 'web_1', pod: podName('web_1'), namespace: 'kiln', node: 'n1', pullPolicy: 'Never', claims: new Set(['data']), command: ['sh'], ports: [], ...more,
});

test('docker names → pod names: kept when valid, else mapped with a hash of the original', () => {
  assert.equal(podName('web'), 'web');
  assert.match(podName('web_1'), /^web-1-[0-9a-f]{6}$/);
  assert.notEqual(podName('Web'), podName('web'));
  assert.ok(podName('x'.repeat(100)).length <= 63);
});

test('run flags → pod fields: env, workdir, user, entrypoint, args ($ kept literal), volumes, limits, init, dns, hosts, node, pull policy, labels', () => {
  const pod = podFor(input({
    image: 'busybox:test', cmd: ['-c', 'echo $HOME $(id)'], entrypoint: ['sh'], env: ['A=$(B)'], workdir: '/tmp', user: '1000:2000', readOnly: true, capDrop: ['CAP_CHOWN'],
    memory: 32 * 1024 * 1024, cpus: 0.5, init: true, dns: ['192.0.2.53'], addHost: ['db:192.0.2.10'], volumes: ['data:/data', 'scratch:/s:ro'], tmpfs: ['/run'], hostname: 'box',
    interactive: true, tty: true, labels: { team: 'a', 'odd key': 'x' }, autoRemove: true,
  }));
  const c = pod.spec!.containers[0]!;
  assert.deepEqual([c.command, c.args, c.env, c.workingDir], [['sh'], ['-c', 'echo $$HOME $$(id)'], [{ name: 'A', value: '$$(B)' }], '/tmp']);
  assert.deepEqual(c.securityContext, { runAsUser: 1000, runAsGroup: 2000, readOnlyRootFilesystem: true, capabilities: { drop: ['CHOWN'] } });
  assert.deepEqual(c.resources, { limits: { memory: String(32 * 1024 * 1024), cpu: '500m' } });
  assert.deepEqual([c.stdin, c.stdinOnce, c.tty, c.imagePullPolicy], [true, true, true, 'Never']);
  assert.deepEqual(pod.spec!.volumes, [{ name: 'v0', persistentVolumeClaim: { claimName: 'data' } }, { name: 'v1', emptyDir: {} }, { name: 't0', emptyDir: { medium: 'Memory' } }]);
  assert.deepEqual(c.volumeMounts, [{ name: 'v0', mountPath: '/data' }, { name: 'v1', mountPath: '/s', readOnly: true }, { name: 't0', mountPath: '/run' }]);
  const s = pod.spec!;
  assert.deepEqual([s.nodeName, s.restartPolicy, s.shareProcessNamespace, s.hostname, s.dnsPolicy, s.hostAliases], ['n1', 'Never', true, 'box', 'None', [{ ip: '192.0.2.10', hostnames: ['db'] }]]);
  assert.deepEqual(pod.metadata!.labels, { team: 'a', 'app.kubernetes.io/managed-by': 'kiln', 'kiln.dev/container': 'true' });
  assert.equal(pod.metadata!.annotations!['kiln.dev/name'], 'web_1');
  assert.equal(pod.metadata!.annotations!['kiln.dev/auto-remove'], 'true');
  assert.deepEqual(JSON.parse(pod.metadata!.annotations!['kiln.dev/labels']!), { team: 'a', 'odd key': 'x' });
});

test('what a pod cannot express is refused in one line naming the backend', () => {
  const refused: [PodInput['spec'], RegExp][] = [
    [{ image: 'i', network: 'none' }, /^--network none is not supported on the kube backend$/],
    [{ image: 'i', pidsLimit: 5 }, /^--pids-limit is not supported/],
    [{ image: 'i', user: 'nobody' }, /^-u nobody \(a user name\) is not supported/],
    [{ image: 'i', volumes: ['/etc:/x'] }, /^-v \/etc:\/x \(a directory of this machine\) is not supported/],
    [{ image: 'i', mounts: ['type=bind,source=/a,target=/b'] }, /^--mount is not supported/],
  ];
  for (const [spec, re] of refused) assert.throws(() => podFor(input(spec)), { message: re });
  assert.throws(() => parsePublish('8080:53/udp'), { message: /UDP\) is not supported on the kube backend/ });
  assert.deepEqual(parsePublish('8080:80'), { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
});

const pod = (status: V1Pod['status'], deleting = false): V1Pod => ({ metadata: { name: 'p', ...(deleting ? { deletionTimestamp: new Date() } : {}) }, spec: { containers: [] }, status });

test("pod status → docker's states, with Kubernetes' reason as a note", () => {
  assert.deepEqual(podLive(pod({ phase: 'Pending' })), { state: 'created' });
  assert.deepEqual(podLive(pod({ phase: 'Pending', containerStatuses: [{ name: 'main', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImageNeverPull', message: 'not present' } } }] })), { state: 'created', note: 'ErrImageNeverPull: not present' });
  const t = new Date('2026-01-01T00:00:00Z');
  const terminated = { name: 'main', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 137, startedAt: t, finishedAt: t } } };
  assert.deepEqual(podLive(pod({ phase: 'Failed', reason: 'DeadlineExceeded', containerStatuses: [terminated] })), { state: 'exited', exitCode: 137, startedAt: t.toISOString(), finishedAt: t.toISOString() });
  assert.equal(podLive(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.', containerStatuses: [terminated] })).note, 'Evicted: The node was low on resource: memory.');
  assert.equal(podLive(pod({ phase: 'Running', containerStatuses: [{ ...terminated, state: { running: { startedAt: t } } }] }, true)).note, 'its pod is being deleted outside kiln');
});

test("--restart: the pod's restartPolicy; between two runs ps says restarting; the runc backends refuse it in one line", async () => {
  const { parseRestart, refuseRestart } = await import('../../containers/restart.js');
  const policy = (r: string) => podFor(input({ image: 'i', restart: parseRestart(r, false) })).spec!.restartPolicy;
  assert.deepEqual(['no', 'on-failure', 'always', 'unless-stopped'].map(policy), ['Never', 'OnFailure', 'Always', 'Always']);
  assert.throws(() => parseRestart('always', true), { message: 'conflicting options: --restart always and --rm' });
  assert.throws(() => parseRestart('on-failure:3', false), { message: 'invalid restart policy "on-failure:3"' });
  assert.throws(() => refuseRestart({ image: 'i', restart: 'always' }, 'local'), { message: '--restart always is not supported on the local backend yet' });
  const t = new Date('2026-01-01T00:00:00Z');
  const looping: V1Pod = { metadata: { name: 'p' }, spec: { restartPolicy: 'OnFailure', containers: [] }, status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'i', imageID: '', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 3, finishedAt: t } } }] } };
  assert.deepEqual(podLive(looping), { state: 'exited', exitCode: 3, finishedAt: t.toISOString(), note: 'restarting: CrashLoopBackOff, 2 restarts' });
});
