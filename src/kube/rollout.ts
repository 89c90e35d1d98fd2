/**
 * `kiln dev`'s Kubernetes half: restart a Deployment's pods (as `kubectl
 * rollout restart` does: a new annotation on the pod template) so they start
 * from the image just built, and wait until the rollout is complete.
 */
import { unavailable } from '../errors.js';
import type { Apis } from './api.js';
import { call, where } from './errors.js';
import type { Kube } from './kubeconfig.js';

export const RESTARTED_AT = 'kiln.dev/restartedAt';

export async function restartDeployment(k: Kube, a: Apis, name: string, namespace: string): Promise<void> {
  const what = `deployment ${namespace}/${name}`;
  const d = await call(k, `get ${what}`, () => a.apps.readNamespacedDeployment({ name, namespace }));
  const key = RESTARTED_AT.replace(/~/g, '~0').replace(/\//g, '~1');
  const now = new Date().toISOString();
  const patch = d.spec?.template.metadata?.annotations
    ? [{ op: 'add', path: `/spec/template/metadata/annotations/${key}`, value: now }]
    : d.spec?.template.metadata
      ? [{ op: 'add', path: '/spec/template/metadata/annotations', value: { [RESTARTED_AT]: now } }]
      : [{ op: 'add', path: '/spec/template/metadata', value: { annotations: { [RESTARTED_AT]: now } } }];
  await call(k, `restart ${what}`, () => a.apps.patchNamespacedDeployment({ name, namespace, body: patch }));
}

/** Waits until every replica runs the newest template and is available; returns the ms waited. */
export async function waitRollout(k: Kube, a: Apis, name: string, namespace: string, timeoutMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const d = await call(k, `get deployment ${namespace}/${name}`, () => a.apps.readNamespacedDeployment({ name, namespace }));
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    const done = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want;
    if (done) return Date.now() - start;
    if (Date.now() - start > timeoutMs) {
      throw unavailable(`deployment ${namespace}/${name} in ${where(k)} not rolled out after ${Math.round(timeoutMs / 1000)} s (${s.updatedReplicas ?? 0}/${want} updated, ${s.availableReplicas ?? 0} available)`, { hint: `kubectl -n ${namespace} describe deployment ${name}` });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
