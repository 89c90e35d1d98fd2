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
import { deletePod, findPod } from './pods.js';

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

/**
 * The image check through the agent (a tunnel and a TLS handshake) runs while
 * the pod is made with `Never`, the common case (kiln built or pulled the
 * image there): when the node turns out not to have it, that pod is deleted
 * before it could start and made again with `IfNotPresent`.
 */
export async function createPod(k: Kube, a: Apis, agent: AgentSide, spec: ContainerSpec, opts: CreateOptions = {}): Promise<V1Pod> {
  const name = spec.name ?? randomName();
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw invalidArgument(`invalid container name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { hint: 'pick another --name' });
  const ports = (spec.publish ?? []).map(parsePublish);
  const check = opts.pull === 'always' ? Promise.resolve(undefined) : imageOnNode(agent, spec.image);
  check.catch(() => undefined);
  const [node, pvcs] = await Promise.all([agent.node(), claims(k, a, spec), checkPortsFree(ports)]);
  const id = newId();
  const commandOf = (image?: ImageDetail) => {
    const cfg = image?.config.config;
    return [...(spec.entrypoint ?? cfg?.Entrypoint ?? []), ...(spec.cmd ?? (spec.entrypoint ? [] : (cfg?.Cmd ?? [])))];
  };
  const make = (pullPolicy: PullPolicy, command: string[]) =>
    createNamed(k, a, name, podFor({ spec: { ...spec, name }, id, name, pod: podName(name), namespace: k.namespace, node, pullPolicy, claims: pvcs, command, ports }));
  const pod = await make(opts.pull === 'always' ? 'Always' : 'Never', commandOf());
  if (opts.pull === 'always') return pod;
  const podName_ = pod.metadata!.name!;
  let image: ImageDetail | undefined;
  try {
    image = await check;
  } catch (e) {
    await deletePod(k, a, podName_);
    throw e;
  }
  if (image) {
    if (spec.cmd === undefined || spec.entrypoint === undefined) {
      const command = JSON.stringify(commandOf(image));
      await call(k, `annotate pod ${k.namespace}/${podName_}`, () => a.core.patchNamespacedPod({ name: podName_, namespace: k.namespace, body: [{ op: 'replace', path: `/metadata/annotations/${ANN.command.replace('/', '~1')}`, value: command }] }));
      pod.metadata!.annotations![ANN.command] = command;
    }
    return pod;
  }
  await deletePod(k, a, podName_);
  if (opts.pull === 'never') {
    throw notFound(`image ${spec.image} is not on node ${node} (the kube backend's builder node) and --pull never was given`, { hint: `put it there: kiln --backend kube pull ${spec.image}, or kiln --backend kube build -t ${spec.image} .` });
  }
  return make('IfNotPresent', commandOf());
}

async function createNamed(k: Kube, a: Apis, name: string, pod: V1Pod): Promise<V1Pod> {
  try {
    return await call(k, `create pod ${k.namespace}/${pod.metadata!.name}`, () => a.core.createNamespacedPod({ namespace: k.namespace, body: pod }));
  } catch (e) {
    if (!isStatus(e, 409)) throw e;
    const holder = await findPod(k, a, name).catch(() => undefined);
    const id = holder?.metadata?.annotations?.[ANN.id] ?? holder?.metadata?.name ?? pod.metadata!.name!;
    throw alreadyExists(`Conflict. The container name "/${name}" is already in use by container "${id}" (pod ${k.namespace}/${pod.metadata!.name}). You have to remove (or rename) that container to be able to reuse that name`, { hint: `kiln --backend kube rm -f ${name}` });
  }
}
