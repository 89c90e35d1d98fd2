/**
 * `kiln run` on the kube backend, first half: the pod for a ContainerSpec on
 * the builder node, with the image from the node's containerd when the agent
 * says the node has it (imagePullPolicy Never), else IfNotPresent.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { alreadyExists, invalidArgument, isKilnError, notFound } from '../../../errors.js';
import type { Apis } from '../../../kube/api.js';
import { call, isStatus } from '../../../kube/errors.js';
import type { Kube } from '../../../kube/kubeconfig.js';
import type { ContainerSpec, CreateOptions } from '../../containers.js';
import { randomName } from '../../containers/names.js';
import type { ImageDetail } from '../../engine.js';
import { checkPortsFree } from './forward.js';
import { ANN, newId, podName } from './names.js';
import { parsePublish, podFor, type PullPolicy } from './pod.js';
import { findPod } from './pods.js';

/** What kube's containers need of the agent: the builder node and the node's images. */
export interface AgentSide {
  node(): Promise<string>;
  inspectImage(ref: string): Promise<ImageDetail>;
}

async function imageOnNode(agent: AgentSide, ref: string): Promise<ImageDetail | undefined> {
  try {
    return await agent.inspectImage(ref);
  } catch (e) {
    if (isKilnError(e, 'NOT_FOUND')) return undefined;
    throw e;
  }
}

async function claims(k: Kube, a: Apis, spec: ContainerSpec): Promise<Set<string>> {
  if (!spec.volumes?.length) return new Set();
  const r = await call(k, `list persistentvolumeclaims in namespace ${k.namespace}`, () => a.core.listNamespacedPersistentVolumeClaim({ namespace: k.namespace }));
  return new Set(r.items.map((c) => c.metadata!.name!));
}

export async function createPod(k: Kube, a: Apis, agent: AgentSide, spec: ContainerSpec, opts: CreateOptions = {}): Promise<V1Pod> {
  const name = spec.name ?? randomName();
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw invalidArgument(`invalid container name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { hint: 'pick another --name' });
  const ports = (spec.publish ?? []).map(parsePublish);
  const [node, image, pvcs] = await Promise.all([agent.node(), opts.pull === 'always' ? undefined : imageOnNode(agent, spec.image), claims(k, a, spec), checkPortsFree(ports)]);
  if (!image && opts.pull === 'never') {
    throw notFound(`image ${spec.image} is not on node ${node} (the kube backend's builder node) and --pull never was given`, { hint: `put it there: kiln --backend kube pull ${spec.image}, or kiln --backend kube build -t ${spec.image} .` });
  }
  const pullPolicy: PullPolicy = opts.pull === 'always' ? 'Always' : image ? 'Never' : 'IfNotPresent';
  const cfg = image?.config.config;
  const entry = spec.entrypoint ?? cfg?.Entrypoint ?? [];
  const command = [...entry, ...(spec.cmd ?? (spec.entrypoint ? [] : (cfg?.Cmd ?? [])))];
  const pod = podFor({ spec: { ...spec, name }, id: newId(), name, pod: podName(name), namespace: k.namespace, node, pullPolicy, claims: pvcs, command, ports });
  try {
    return await call(k, `create pod ${k.namespace}/${pod.metadata!.name}`, () => a.core.createNamespacedPod({ namespace: k.namespace, body: pod }));
  } catch (e) {
    if (!isStatus(e, 409)) throw e;
    const holder = await findPod(k, a, name).catch(() => undefined);
    const id = holder?.metadata?.annotations?.[ANN.id] ?? holder?.metadata?.name ?? pod.metadata!.name!;
    throw alreadyExists(`Conflict. The container name "/${name}" is already in use by container "${id}" (pod ${k.namespace}/${pod.metadata!.name}). You have to remove (or rename) that container to be able to reuse that name`, { hint: `kiln --backend kube rm -f ${name}` });
  }
}
