/** The objects kiln install makes: what a cluster admin reads in kubectl get -o yaml. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentCommand, agentObjects, clientRoleObject, daemonSetObject, type AgentSpec } from './objects.js';

const spec: AgentSpec = {
  namespace: 'kiln',
  image: 'kiln:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  version: '0.1.0',
  node: 'node1',
  containerd: { socket: '/run/k3s/containerd/containerd.sock', root: '/var/lib/rancher/k3s/agent/containerd', state: '/run/k3s/containerd' },
  agentRoot: '/var/lib/kiln-agent',
};
const tls = { ca: 'CA', serverCert: 'CERT', serverKey: 'KEY' };

test('the DaemonSet runs kiln agent over the node containerd, on the builder node, privileged, with the host paths at the same paths', () => {
  const ds = daemonSetObject(spec);
  const pod = ds.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.deepEqual(pod.nodeSelector, { 'node-role.kubernetes.io/builder': 'true' });
  assert.equal(c.image, 'kiln:0.1.0');
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(c.securityContext?.privileged, true);
  assert.deepEqual(c.command, [
    'kiln', '--backend', 'containerd', '--address', '/run/k3s/containerd/containerd.sock', '--namespace', 'k8s.io', '--root', '/var/lib/kiln-agent',
    'agent', '--listen', 'tcp://0.0.0.0:2376', '--tlscacert', '/etc/kiln/tls/ca.pem', '--tlscert', '/etc/kiln/tls/server-cert.pem', '--tlskey', '/etc/kiln/tls/server-key.pem',
  ]);
  const hostPaths: Record<string, string> = Object.fromEntries(pod.volumes!.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]));
  // The socket lies in the state directory: no volume of its own.
  assert.deepEqual(hostPaths, { 'containerd-root': '/var/lib/rancher/k3s/agent/containerd', 'containerd-state': '/run/k3s/containerd', 'agent-root': '/var/lib/kiln-agent' });
  const byName = new Map(Object.entries(hostPaths));
  for (const m of c.volumeMounts!.filter((m) => m.name !== 'tls')) assert.equal(m.mountPath, byName.get(m.name), `${m.name} is mounted where it is on the host`);
  assert.deepEqual(c.volumeMounts!.find((m) => m.name === 'tls'), { name: 'tls', mountPath: '/etc/kiln/tls', readOnly: true });
  assert.equal(pod.volumes!.find((v) => v.name === 'tls')!.secret!.secretName, 'kiln-agent-tls');
  assert.equal(pod.serviceAccountName, 'kiln-agent');
  assert.equal(pod.automountServiceAccountToken, false, 'the agent never calls the API: no token in its pod');
  assert.deepEqual(c.readinessProbe?.tcpSocket, { port: 2376 });
  assert.deepEqual(pod.tolerations, [{ operator: 'Exists' }]);
  assert.equal(ds.metadata!.annotations!['kiln.dev/node'], 'node1');
});

test('a socket outside the state directory gets a Socket volume of its own', () => {
  const ds = daemonSetObject({ ...spec, containerd: { socket: '/tmp/c/containerd.sock', root: '/tmp/c/root' } });
  const vols = ds.spec!.template.spec!.volumes!.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path, v.hostPath!.type]);
  assert.deepEqual(vols, [
    ['containerd-root', '/tmp/c/root', 'Directory'],
    ['containerd-socket', '/tmp/c/containerd.sock', 'Socket'],
    ['agent-root', '/var/lib/kiln-agent', 'DirectoryOrCreate'],
  ]);
  assert.equal(agentCommand({ containerd: { socket: '/tmp/c/containerd.sock', root: '/tmp/c/root' }, agentRoot: '/a' })[4], '/tmp/c/containerd.sock');
});

test('every object carries kiln labels; the Secret has only the agent side of the TLS material', () => {
  const all = agentObjects(spec, tls);
  for (const [what, o] of Object.entries(all)) assert.equal(o.metadata!.labels!['app.kubernetes.io/managed-by'], 'kiln', what);
  assert.deepEqual(all.secret.stringData, { 'ca.pem': 'CA', 'server-cert.pem': 'CERT', 'server-key.pem': 'KEY' });
  assert.equal(all.namespace.metadata!.labels!['pod-security.kubernetes.io/enforce'], 'privileged');
  assert.deepEqual(all.service.spec!.ports!.map((p) => p.port), [2376]);
  assert.equal(all.serviceAccount.automountServiceAccountToken, false);
});

test('the kiln-client Role grants only what a user of the kube backend needs', () => {
  const rules = clientRoleObject(spec).rules!.map((r) => `${r.resources!.join(',')}:${r.verbs.join(',')}${r.resourceNames ? `@${r.resourceNames}` : ''}`);
  assert.deepEqual(rules, ['pods:get,list,watch,create,delete,patch', 'pods/portforward,pods/attach,pods/exec:get,create', 'pods/log:get', 'persistentvolumeclaims:list', 'daemonsets:get@kiln-agent']);
});
