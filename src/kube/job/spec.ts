/**
 * The objects of one build Job, as pure functions of the build's choices
 * (unit-tested, no cluster needed):
 *
 * - a Secret (`kubernetes.io/dockerconfigjson`) with the push credentials for
 *   the destination registries only, and the Dockerfile;
 * - a Job (backoffLimit 0) whose pod is unprivileged (no privileged, the
 *   runtime's default capabilities, no hostPath, no service account token),
 *   runs as uid 0 (the executor owns the base image's files), and has:
 *   an init container that copies the Secret's two files into an emptyDir
 *   (`/kiln`, the executor's state dir) — the Secret is mounted there and
 *   nowhere else — and the build container `kiln executor --context tar://stdin`
 *   with stdin open once (the CLI attaches and streams the context), its
 *   digest written to the termination message.
 */
import type { V1Job, V1ResourceRequirements, V1Secret } from '@kubernetes/client-node';
import { MANAGED_BY } from '../names.js';

export const BUILD_LABEL = 'kiln.dev/build';
export const BUILD_APP = { 'app.kubernetes.io/name': 'kiln-build', ...MANAGED_BY } as const;
/** The build container's name (attach, logs). */
export const BUILD_CONTAINER = 'build';
export const INIT_CONTAINER = 'credentials';
/** The emptyDir: the executor's state dir (store, scratch, docker config, the Dockerfile). */
export const WORK_DIR = '/kiln';
export const SECRET_DIR = '/kiln-secret';
/** The Secret's key for the Dockerfile (beside `.dockerconfigjson`). */
export const DOCKERFILE_KEY = 'Dockerfile';
/** The Job lives on at most this long after it ends when kiln could not delete it (killed); --keep-job drops it. */
export const TTL_SECONDS = 3600;

export interface JobSpec {
  /** The Job's and the Secret's name (`kiln-build-…`). */
  name: string;
  namespace: string;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  version: string;
  /** Normalized references to push (or, with noPush, only to name the image). */
  destinations: string[];
  noPush: boolean;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  target?: string;
  insecureRegistries: string[];
  /** Layer compression (the executor's default: gzip). */
  compression?: string;
  /** e.g. `{ cpu: '1', memory: '2Gi' }`: requests and limits of the build container. */
  resources: { cpu?: string; memory?: string };
  /** Keep the Job after it ends (no TTL). */
  keep: boolean;
  /** How the build's messages name the Dockerfile: the path the user gave (`-f`), not the Secret's copy. */
  dockerfileName?: string;
  /** The executor's registry cache (`--cache-repo`), from `--cache-to/--cache-from type=registry,ref=…`. */
  cacheRepo?: string;
}

/** The executor's command line (after the image's entrypoint, kiln). */
export function executorArgs(s: JobSpec): string[] {
  const args = ['executor', '--context', 'tar://stdin', '--dockerfile', `${WORK_DIR}/${DOCKERFILE_KEY}`, '--state-dir', WORK_DIR, '--digest-file', '/dev/termination-log', '--progress', 'plain'];
  for (const d of s.destinations) args.push('--destination', d);
  if (s.noPush) args.push('--no-push');
  for (const [k, v] of Object.entries(s.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of Object.entries(s.labels)) args.push('--label', `${k}=${v}`);
  if (s.target) args.push('--target', s.target);
  for (const h of s.insecureRegistries) args.push('--insecure-registry', h);
  if (s.compression) args.push('--compression', s.compression);
  if (s.dockerfileName) args.push('--dockerfile-name', s.dockerfileName);
  if (s.cacheRepo) args.push('--cache', '--cache-repo', s.cacheRepo);
  return args;
}

function resources(r: JobSpec['resources']): V1ResourceRequirements | undefined {
  const amounts: Record<string, string> = {};
  if (r.cpu) amounts.cpu = r.cpu;
  if (r.memory) amounts.memory = r.memory;
  return Object.keys(amounts).length > 0 ? { requests: amounts, limits: { ...amounts } } : undefined;
}

const labels = (s: JobSpec) => ({ ...BUILD_APP, [BUILD_LABEL]: s.name, 'app.kubernetes.io/version': s.version });

export function secretObject(s: JobSpec, dockerConfigJson: string, dockerfile: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: s.name, namespace: s.namespace, labels: labels(s) },
    type: 'kubernetes.io/dockerconfigjson',
    stringData: { '.dockerconfigjson': dockerConfigJson, [DOCKERFILE_KEY]: dockerfile },
  };
}

export function jobObject(s: JobSpec): V1Job {
  const res = resources(s.resources);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: s.name, namespace: s.namespace, labels: labels(s), annotations: { 'kiln.dev/destinations': s.destinations.join(',') } },
    spec: {
      backoffLimit: 0,
      ...(s.keep ? {} : { ttlSecondsAfterFinished: TTL_SECONDS }),
      template: {
        metadata: { labels: labels(s) },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          securityContext: { runAsUser: 0, runAsGroup: 0 },
          // Several builds at once: spread over the nodes when the scheduler can.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 50, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'kiln-build' } } } },
              ],
            },
          },
          volumes: [
            { name: 'secret', secret: { secretName: s.name, defaultMode: 0o400 } },
            { name: 'work', emptyDir: {} },
          ],
          initContainers: [
            {
              name: INIT_CONTAINER,
              image: s.image,
              imagePullPolicy: s.imagePullPolicy,
              args: ['job-init', '--from', SECRET_DIR, '--to', WORK_DIR],
              volumeMounts: [
                { name: 'secret', mountPath: SECRET_DIR, readOnly: true },
                { name: 'work', mountPath: WORK_DIR },
              ],
              securityContext: { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
          containers: [
            {
              name: BUILD_CONTAINER,
              image: s.image,
              imagePullPolicy: s.imagePullPolicy,
              args: executorArgs(s),
              stdin: true,
              stdinOnce: true,
              tty: false,
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              volumeMounts: [{ name: 'work', mountPath: WORK_DIR }],
              securityContext: { privileged: false },
              ...(res ? { resources: res } : {}),
            },
          ],
        },
      },
    },
  };
}
