/**
 * `kiln install`: a list of small actions run in order, one status line
 * each (kind's shape): check the cluster, pick the builder node and its
 * containerd, make the TLS material, create the objects, label the node,
 * keep the client's certificates, wait for the agent to be ready. A failing
 * action names itself in its error.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { alreadyExists, failedPrecondition } from '../errors.js';
import { makeAgentCerts } from '../tls/certs.js';
import { apis, serverVersion, type Apis } from './api.js';
import { readDaemonSet } from './agent-pod.js';
import { clientCertDir, writeClientCerts } from './client-certs.js';
import { call, isStatus, where } from './errors.js';
import type { Kube } from './kubeconfig.js';
import { AGENT, BUILDER_LABEL } from './names.js';
import { chooseNode, containerdPaths, type PathOverrides } from './nodes.js';
import { agentObjects, type AgentSpec, type ContainerdPaths, type TlsFilesPem } from './objects.js';
import { removeAgent } from './uninstall.js';
import { waitReady } from './wait.js';

export interface InstallOptions {
  selector?: string;
  image: string;
  imagePullPolicy: AgentSpec['imagePullPolicy'];
  version: string;
  containerd: PathOverrides;
  agentRoot: string;
  force: boolean;
  wait: boolean;
  timeoutMs: number;
  /** One line per action. */
  log(line: string): void;
  progress(line: string, elapsedMs: number): void;
  logs(lines: string[]): void;
}

export interface InstallResult {
  context: string;
  server: string;
  kubernetes: string;
  namespace: string;
  node: string;
  image: string;
  containerd: ContainerdPaths & { flavour: string };
  clientCerts: string;
  pod?: string;
  /** From the DaemonSet's creation to the pod's readiness. */
  readyMs?: number;
}

/** The agent's TLS: a CA, a server certificate for the tunnel's loopback end and the Service's names, a client certificate. */
async function makeTls(namespace: string): Promise<{ server: TlsFilesPem; client: { ca: string; cert: string; key: string } }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kiln-install-'));
  try {
    const svc = `${AGENT}.${namespace}.svc`;
    await makeAgentCerts(path.join(dir, 'tls'), ['127.0.0.1', 'localhost', '::1', AGENT, `${AGENT}.${namespace}`, svc, `${svc}.cluster.local`]);
    const r = (f: string) => readFile(path.join(dir, 'tls', f), 'utf8');
    const ca = await r('ca.pem');
    return { server: { ca, serverCert: await r('server-cert.pem'), serverKey: await r('server-key.pem') }, client: { ca, cert: await r('cert.pem'), key: await r('key.pem') } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function pickNode(k: Kube, a: Apis, selector: string | undefined): Promise<V1Node> {
  const nodes = await call(k, selector ? `list nodes with --selector ${selector}` : 'list nodes', () => a.core.listNode(selector ? { labelSelector: selector } : {}));
  return chooseNode(nodes.items, selector, where(k));
}

export async function install(k: Kube, o: InstallOptions): Promise<InstallResult> {
  const a = apis(k);
  const kubernetes = await serverVersion(k);
  o.log(`cluster: ${where(k)}, Kubernetes ${kubernetes}`);

  if (await readDaemonSet(k, a)) {
    if (!o.force) throw alreadyExists(`kiln is already installed in ${where(k)}, namespace ${k.namespace}`, { hint: 'kiln install --force replaces it; kiln uninstall removes it' });
    o.log('replacing the installed agent (--force)');
    await removeAgent(k, a, { keepNamespace: true, wait: true, log: o.log });
  }

  const node = await pickNode(k, a, o.selector);
  const nodeName = node.metadata!.name!;
  const paths = containerdPaths(node, o.containerd);
  o.log(`builder node: ${nodeName} (${paths.flavour} containerd at ${paths.socket}, root ${paths.root})`);

  const tls = await makeTls(k.namespace);
  const spec: AgentSpec = { namespace: k.namespace, image: o.image, imagePullPolicy: o.imagePullPolicy, version: o.version, node: nodeName, containerd: paths, agentRoot: o.agentRoot };
  const obj = agentObjects(spec, tls.server);
  const ns = k.namespace;

  try {
    await call(k, `create namespace ${ns}`, () => a.core.createNamespace({ body: obj.namespace }));
    o.log(`created Namespace ${ns}`);
  } catch (e) {
    if (!isStatus(e, 409)) throw e;
    const existing = await call(k, `get namespace ${ns}`, () => a.core.readNamespace({ name: ns }));
    if (existing.metadata?.deletionTimestamp) throw failedPrecondition(`namespace ${ns} in ${where(k)} is being deleted`, { hint: 'wait until kubectl get namespace ' + ns + ' finds nothing, then install again' });
    o.log(`using Namespace ${ns}`);
  }
  const steps: [string, () => Promise<unknown>][] = [
    [`ServiceAccount ${ns}/${AGENT}`, () => a.core.createNamespacedServiceAccount({ namespace: ns, body: obj.serviceAccount })],
    [`Role ${ns}/${obj.clientRole.metadata!.name}`, () => a.rbac.createNamespacedRole({ namespace: ns, body: obj.clientRole })],
    [`Secret ${ns}/${obj.secret.metadata!.name}`, () => a.core.createNamespacedSecret({ namespace: ns, body: obj.secret })],
    [`Service ${ns}/${AGENT}`, () => a.core.createNamespacedService({ namespace: ns, body: obj.service })],
    [`DaemonSet ${ns}/${AGENT}`, () => a.apps.createNamespacedDaemonSet({ namespace: ns, body: obj.daemonSet })],
  ];
  for (const [what, create] of steps) {
    await call(k, `create ${what}`, create);
    o.log(`created ${what}`);
  }
  const created = Date.now();
  if (node.metadata?.labels?.[BUILDER_LABEL] !== 'true') {
    const label = BUILDER_LABEL.replace(/~/g, '~0').replace(/\//g, '~1');
    const patch = node.metadata?.labels ? [{ op: 'add', path: `/metadata/labels/${label}`, value: 'true' }] : [{ op: 'add', path: '/metadata/labels', value: { [BUILDER_LABEL]: 'true' } }];
    await call(k, `label node ${nodeName}`, () => a.core.patchNode({ name: nodeName, body: patch }));
  }
  o.log(`labelled node ${nodeName} ${BUILDER_LABEL}=true`);

  const certDir = clientCertDir(k.server, ns);
  await writeClientCerts(certDir, tls.client);
  o.log(`client certificates: ${certDir}`);

  const result: InstallResult = { context: k.context, server: k.server, kubernetes, namespace: ns, node: nodeName, image: o.image, containerd: paths, clientCerts: certDir };
  if (!o.wait) return result;
  const { pod } = await waitReady(k, a, { image: o.image, timeoutMs: o.timeoutMs, progress: o.progress, logs: o.logs });
  return { ...result, pod: pod.metadata!.name!, readyMs: Date.now() - created };
}
