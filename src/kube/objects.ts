/**
 * The Kubernetes objects `kiln install` makes, as pure functions of the
 * install's choices (unit-tested, no cluster needed): the namespace, the
 * agent's ServiceAccount (no API token: the agent never calls the API), the
 * `kiln-client` Role (what a user of the kube backend needs — bind it to
 * users who may build on the node), the Secret with the agent's TLS
 * material, the DaemonSet running `kiln agent` on the builder node over the
 * node's containerd, and the Service in front of it.
 */
import type { V1DaemonSet, V1Namespace, V1Role, V1Secret, V1Service, V1ServiceAccount, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { AGENT, AGENT_LABELS, AGENT_PORT, ANNOTATIONS, BUILDER_LABEL, CLIENT_ROLE, MANAGED_BY, TLS_DIR, TLS_SECRET } from './names.js';

export interface ContainerdPaths {
  /** The node's containerd socket. */
  socket: string;
  /** containerd's root directory (its snapshots): the agent mounts it at the same path. */
  root: string;
  /** containerd's state directory, when the socket is not already inside it. */
  state?: string;
}

export interface AgentSpec {
  namespace: string;
  /** The agent's image, e.g. kiln:0.1.0. */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** kiln's version, as a label. */
  version: string;
  node: string;
  containerd: ContainerdPaths;
  /** The agent's own directory on the node (build cache, runc state, synced contexts). */
  agentRoot: string;
}

export interface TlsFilesPem {
  ca: string;
  serverCert: string;
  serverKey: string;
}

const meta = (name: string, namespace: string, version: string) => ({ name, namespace, labels: { ...AGENT_LABELS, 'app.kubernetes.io/version': version } });

export function namespaceObject(name: string): V1Namespace {
  // The agent is privileged: a namespace under Pod Security admission must allow it.
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...MANAGED_BY, 'pod-security.kubernetes.io/enforce': 'privileged' } } };
}

export function serviceAccountObject(s: Pick<AgentSpec, 'namespace' | 'version'>): V1ServiceAccount {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(AGENT, s.namespace, s.version), automountServiceAccountToken: false };
}

/** What a user of the kube backend needs in the namespace: find the agent, tunnel to it, read its logs. */
export function clientRoleObject(s: Pick<AgentSpec, 'namespace' | 'version'>): V1Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(CLIENT_ROLE, s.namespace, s.version),
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
      { apiGroups: [''], resources: ['pods/portforward', 'pods/attach', 'pods/exec'], verbs: ['get', 'create'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: [AGENT], verbs: ['get'] },
    ],
  };
}

export function tlsSecretObject(s: Pick<AgentSpec, 'namespace' | 'version'>, tls: TlsFilesPem): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(TLS_SECRET, s.namespace, s.version),
    type: 'Opaque',
    stringData: { 'ca.pem': tls.ca, 'server-cert.pem': tls.serverCert, 'server-key.pem': tls.serverKey },
  };
}

export function serviceObject(s: Pick<AgentSpec, 'namespace' | 'version'>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(AGENT, s.namespace, s.version),
    spec: { selector: { 'app.kubernetes.io/name': AGENT }, ports: [{ name: 'agent', port: AGENT_PORT, targetPort: AGENT_PORT, protocol: 'TCP' }] },
  };
}

const under = (dir: string, file: string) => file === dir || file.startsWith(dir.endsWith('/') ? dir : dir + '/');

/** Host paths the agent needs, each at the same path in the pod: containerd's mounts name them. */
function hostMounts(s: AgentSpec): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  const c = s.containerd;
  const paths: { name: string; path: string; type: string }[] = [{ name: 'containerd-root', path: c.root, type: 'Directory' }];
  if (c.state) paths.push({ name: 'containerd-state', path: c.state, type: 'Directory' });
  if (!paths.some((p) => under(p.path, c.socket))) paths.push({ name: 'containerd-socket', path: c.socket, type: 'Socket' });
  paths.push({ name: 'agent-root', path: s.agentRoot, type: 'DirectoryOrCreate' });
  return {
    volumes: [...paths.map((p) => ({ name: p.name, hostPath: { path: p.path, type: p.type } })), { name: 'tls', secret: { secretName: TLS_SECRET, defaultMode: 0o400 } }],
    mounts: [...paths.map((p) => ({ name: p.name, mountPath: p.path })), { name: 'tls', mountPath: TLS_DIR, readOnly: true }],
  };
}

/** The agent's command line: kiln over the node's containerd (the kubelet's namespace), TCP with mutual TLS. */
export function agentCommand(s: Pick<AgentSpec, 'containerd' | 'agentRoot'>): string[] {
  return [
    'kiln', '--backend', 'containerd', '--address', s.containerd.socket, '--namespace', 'k8s.io', '--root', s.agentRoot,
    'agent', '--listen', `tcp://0.0.0.0:${AGENT_PORT}`,
    '--tlscacert', `${TLS_DIR}/ca.pem`, '--tlscert', `${TLS_DIR}/server-cert.pem`, '--tlskey', `${TLS_DIR}/server-key.pem`,
  ];
}

export function daemonSetObject(s: AgentSpec): V1DaemonSet {
  const { volumes, mounts } = hostMounts(s);
  const podLabels = { ...AGENT_LABELS, 'app.kubernetes.io/version': s.version };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { ...meta(AGENT, s.namespace, s.version), annotations: { [ANNOTATIONS.node]: s.node, [ANNOTATIONS.socket]: s.containerd.socket, [ANNOTATIONS.root]: s.containerd.root } },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': AGENT } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: AGENT,
          automountServiceAccountToken: false,
          nodeSelector: { [BUILDER_LABEL]: 'true' },
          // The builder node may be a control-plane node or tainted for builds only.
          tolerations: [{ operator: 'Exists' }],
          containers: [
            {
              name: 'agent',
              image: s.image,
              imagePullPolicy: s.imagePullPolicy,
              command: agentCommand(s),
              // Mounting snapshots and running RUN steps in runc need it.
              securityContext: { privileged: true },
              ports: [{ name: 'agent', containerPort: AGENT_PORT, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: AGENT_PORT }, periodSeconds: 2, failureThreshold: 3 },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

/** Everything, in the order install creates it (uninstall deletes in reverse). */
export function agentObjects(s: AgentSpec, tls: TlsFilesPem) {
  return {
    namespace: namespaceObject(s.namespace),
    serviceAccount: serviceAccountObject(s),
    clientRole: clientRoleObject(s),
    secret: tlsSecretObject(s, tls),
    service: serviceObject(s),
    daemonSet: daemonSetObject(s),
  };
}
