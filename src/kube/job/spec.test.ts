import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executorArgs, jobObject, secretObject, type JobSpec } from './spec.js';

const spec: JobSpec = {
  name: 'kiln-build-app-abc123', namespace: 'ci', image: 'kiln:1.2.3', imagePullPolicy: 'IfNotPresent', version: '1.2.3',
  destinations: ['reg.example:5000/app:1'], noPush: false, buildArgs: { V: '2' }, labels: { team: 'a' }, target: 'final',
  insecureRegistries: ['reg.example:5000'], resources: { cpu: '1', memory: '2Gi' }, keep: false,
};

test('the Job: backoffLimit 0, a TTL, an unprivileged pod running as uid 0 with no hostPath and no token', () => {
  const job = jobObject(spec);
  assert.equal(job.spec!.backoffLimit, 0);
  assert.equal(job.spec!.ttlSecondsAfterFinished, 3600);
  const pod = job.spec!.template.spec!;
  assert.equal(pod.restartPolicy, 'Never');
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext!.runAsUser, 0);
  assert.ok(pod.volumes!.every((v) => !v.hostPath), 'no hostPath');
  for (const c of [...pod.initContainers!, ...pod.containers]) {
    assert.notEqual(c.securityContext?.privileged, true, c.name);
    assert.equal(c.securityContext?.capabilities?.add, undefined, `${c.name} adds no capability`);
  }
  assert.equal(jobObject({ ...spec, keep: true }).spec!.ttlSecondsAfterFinished, undefined);
});

test('the Secret is mounted in the init container only; the build container reads stdin once and reports the digest', () => {
  const pod = jobObject(spec).spec!.template.spec!;
  const [init] = pod.initContainers!;
  const [build] = pod.containers;
  assert.deepEqual(init!.volumeMounts!.map((m) => [m.name, m.mountPath, Boolean(m.readOnly)]), [['secret', '/kiln-secret', true], ['work', '/kiln', false]]);
  assert.deepEqual(init!.args, ['job-init', '--from', '/kiln-secret', '--to', '/kiln']);
  assert.deepEqual(build!.volumeMounts!.map((m) => m.name), ['work']);
  assert.equal(build!.stdin, true);
  assert.equal(build!.stdinOnce, true);
  assert.equal(build!.terminationMessagePath, '/dev/termination-log');
  assert.deepEqual(build!.resources, { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } });
  assert.equal(build!.image, 'kiln:1.2.3');
  assert.equal(build!.imagePullPolicy, 'IfNotPresent');
});

test('executor arguments carry the build flags', () => {
  assert.deepEqual(executorArgs(spec), [
    'executor', '--context', 'tar://stdin', '--dockerfile', '/kiln/Dockerfile', '--state-dir', '/kiln', '--digest-file', '/dev/termination-log', '--progress', 'plain',
    '--destination', 'reg.example:5000/app:1', '--build-arg', 'V=2', '--label', 'team=a', '--target', 'final', '--insecure-registry', 'reg.example:5000',
  ]);
  assert.ok(executorArgs({ ...spec, noPush: true }).includes('--no-push'));
  assert.deepEqual(executorArgs({ ...spec, dockerfileName: 'docker/app.Dockerfile', cacheRepo: 'reg.example:5000/cache:main' }).slice(-5), [
    '--dockerfile-name', 'docker/app.Dockerfile', '--cache', '--cache-repo', 'reg.example:5000/cache:main',
  ]);
});

test('the Secret: dockerconfigjson with the Dockerfile beside it', () => {
  const s = secretObject(spec, '{"auths":{}}', 'FROM x\n');
  assert.equal(s.type, 'kubernetes.io/dockerconfigjson');
  assert.deepEqual(s.stringData, { '.dockerconfigjson': '{"auths":{}}', Dockerfile: 'FROM x\n' });
});
