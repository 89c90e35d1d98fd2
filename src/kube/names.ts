/** The names and labels of what `kiln install` makes, in one place (install, uninstall, the backend and tests read them). */
export const AGENT = 'kiln-agent';
export const CLIENT_ROLE = 'kiln-client';
export const TLS_SECRET = 'kiln-agent-tls';
/** The agent's port in the pod (Docker's TLS port, as `kiln agent` defaults to). */
export const AGENT_PORT = 2376;
/** The label `kiln install` puts on the builder node; the DaemonSet selects it. */
export const BUILDER_LABEL = 'node-role.kubernetes.io/builder';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'kiln' } as const;
/** The labels every object kiln makes carries; the agent's pods are found by them. */
export const AGENT_LABELS = { 'app.kubernetes.io/name': AGENT, ...MANAGED_BY } as const;
export const AGENT_SELECTOR = `app.kubernetes.io/name=${AGENT}`;
/** Annotations on the DaemonSet recording how it was installed (read by `kiln system info`). */
export const ANNOTATIONS = {
  node: 'kiln.dev/node',
  socket: 'kiln.dev/containerd-socket',
  root: 'kiln.dev/containerd-root',
} as const;
/** Where the agent's TLS Secret is mounted in its pod. */
export const TLS_DIR = '/etc/kiln/tls';
/** The namespace kiln installs into and looks in (-n/--namespace). */
export const DEFAULT_NAMESPACE = 'kiln';
