/**
 * How a kiln container is recorded on its pod: docker's name and id, the
 * image as the user named it, the command, published ports and docker labels
 * live in annotations (docker names and labels allow what Kubernetes names
 * and label values do not); the pod's name is the docker name mapped to a
 * DNS label. Pure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MANAGED_BY } from '../../../kube/names.js';

/** The label that tells kiln's container pods from the agent's. */
export const CONTAINER_LABEL = 'kiln.dev/container';
export const CONTAINER_SELECTOR = `app.kubernetes.io/managed-by=kiln,${CONTAINER_LABEL}=true`;
export const POD_LABELS = { ...MANAGED_BY, [CONTAINER_LABEL]: 'true' } as const;
/** The one container in the pod. */
export const CONTAINER = 'main';

export const ANN = {
  id: 'kiln.dev/id',
  name: 'kiln.dev/name',
  image: 'kiln.dev/image',
  command: 'kiln.dev/command',
  ports: 'kiln.dev/ports',
  labels: 'kiln.dev/labels',
  autoRemove: 'kiln.dev/auto-remove',
  spec: 'kiln.dev/spec',
} as const;

export const newId = (): string => randomBytes(32).toString('hex');

/**
 * Docker's name ([a-zA-Z0-9][a-zA-Z0-9_.-]+) → a pod name (a DNS label:
 * lowercase letters, digits, '-', at most 63). A name that changes on the way
 * (capitals, '_' or '.', an end that is not alphanumeric, length) gets a
 * short hash of the original, so two docker names never share a pod.
 */
export function podName(dockerName: string): string {
  const plain = dockerName.toLowerCase().replace(/[_.]/g, '-').replace(/-+$/, '');
  if (plain === dockerName && plain.length <= 63) return plain;
  const hash = createHash('sha256').update(dockerName).digest('hex').slice(0, 6);
  return `${plain.slice(0, 63 - 7).replace(/-+$/, '')}-${hash}`;
}

/** Docker's label keys and values that are valid Kubernetes labels too are put on the pod as well. */
export function podLabels(labels: Record<string, string>): Record<string, string> {
  const key = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
  const value = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
  return Object.fromEntries(Object.entries(labels).filter(([k, v]) => key.test(k) && value.test(v) && !k.startsWith('kiln.dev/') && !k.startsWith('app.kubernetes.io/')));
}
