/**
 * `kiln uninstall`: deletes every object `kiln install` made, in reverse
 * order — the DaemonSet (and, waited for, its pods), the Service, the TLS
 * Secret, the Role, the ServiceAccount — takes the builder label off the node
 * and deletes the namespace when kiln created it. Absent objects are skipped,
 * so it can be run again after a partial install or uninstall.
 */
import { unavailable } from '../errors.js';
import { apis, serverVersion, type Apis } from './api.js';
import { agentPods } from './agent-pod.js';
import { call, isStatus, where } from './errors.js';
import type { Kube } from './kubeconfig.js';
import { AGENT, BUILDER_LABEL, CLIENT_ROLE, MANAGED_BY, TLS_SECRET } from './names.js';

export interface RemoveOptions {
  keepNamespace: boolean;
  wait: boolean;
  log(line: string): void;
  timeoutMs?: number;
}

async function gone(k: Kube, what: string, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await call(k, `delete ${what}`, fn);
    return true;
  } catch (e) {
    if (isStatus(e, 404)) return false;
    throw e;
  }
}

async function until(k: Kube, what: string, timeoutMs: number, done: () => Promise<boolean>): Promise<void> {
  const start = Date.now();
  while (!(await done())) {
    if (Date.now() - start > timeoutMs) throw unavailable(`${what} in ${where(k)} still there after ${Math.round(timeoutMs / 1000)} s`, { hint: 'see kubectl get all -n ' + k.namespace + '; run kiln uninstall again' });
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Deletes the agent's objects; returns what was deleted (`DaemonSet kiln/kiln-agent`, `label on node n1`…). */
export async function removeAgent(k: Kube, a: Apis, o: RemoveOptions): Promise<string[]> {
  const ns = k.namespace;
  const removed: string[] = [];
  const del = async (what: string, fn: () => Promise<unknown>) => {
    if (await gone(k, what, fn)) {
      removed.push(what);
      o.log(`deleted ${what}`);
    }
  };
  await del(`DaemonSet ${ns}/${AGENT}`, () => a.apps.deleteNamespacedDaemonSet({ name: AGENT, namespace: ns, propagationPolicy: 'Foreground' }));
  if (o.wait) {
    await until(k, 'the kiln agent\'s pods', o.timeoutMs ?? 120_000, async () => {
      const ds = await a.apps.readNamespacedDaemonSet({ name: AGENT, namespace: ns }).then(() => true, (e) => (isStatus(e, 404) ? false : Promise.reject(e)));
      return !ds && (await agentPods(k, a).catch((e) => (isStatus(e, 404) ? [] : Promise.reject(e)))).length === 0;
    });
  }
  await del(`Service ${ns}/${AGENT}`, () => a.core.deleteNamespacedService({ name: AGENT, namespace: ns }));
  await del(`Secret ${ns}/${TLS_SECRET}`, () => a.core.deleteNamespacedSecret({ name: TLS_SECRET, namespace: ns }));
  await del(`Role ${ns}/${CLIENT_ROLE}`, () => a.rbac.deleteNamespacedRole({ name: CLIENT_ROLE, namespace: ns }));
  await del(`ServiceAccount ${ns}/${AGENT}`, () => a.core.deleteNamespacedServiceAccount({ name: AGENT, namespace: ns }));

  const labelled = await call(k, 'list builder nodes', () => a.core.listNode({ labelSelector: `${BUILDER_LABEL}=true` }));
  const label = BUILDER_LABEL.replace(/~/g, '~0').replace(/\//g, '~1');
  for (const n of labelled.items) {
    const name = n.metadata!.name!;
    await call(k, `remove the label ${BUILDER_LABEL} from node ${name}`, () => a.core.patchNode({ name, body: [{ op: 'remove', path: `/metadata/labels/${label}` }] }));
    removed.push(`label ${BUILDER_LABEL} on node ${name}`);
    o.log(`removed the label ${BUILDER_LABEL} from node ${name}`);
  }

  if (!o.keepNamespace) {
    const nsObj = await call(k, `get namespace ${ns}`, () => a.core.readNamespace({ name: ns })).catch((e) => (isStatus(e, 404) ? undefined : Promise.reject(e)));
    const ours = nsObj?.metadata?.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY['app.kubernetes.io/managed-by'];
    if (nsObj && ours && !nsObj.metadata?.deletionTimestamp) await del(`Namespace ${ns}`, () => a.core.deleteNamespace({ name: ns }));
    if (ours && o.wait) {
      await until(k, `namespace ${ns}`, o.timeoutMs ?? 120_000, () => a.core.readNamespace({ name: ns }).then(() => false, (e) => (isStatus(e, 404) ? true : Promise.reject(e))));
    }
  }
  return removed;
}

export async function uninstall(k: Kube, o: RemoveOptions): Promise<{ context: string; namespace: string; removed: string[] }> {
  const a = apis(k);
  o.log(`cluster: ${where(k)}, Kubernetes ${await serverVersion(k)}`);
  return { context: k.context, namespace: k.namespace, removed: await removeAgent(k, a, o) };
}
