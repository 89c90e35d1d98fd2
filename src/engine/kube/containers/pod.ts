/**
 * `docker run` flags → a Pod on the builder node (the table in ../README.md).
 * What a pod cannot express is refused in one line naming the backend. Pure.
 */
import type { V1Container, V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { invalidArgument, unimplemented } from '../../../errors.js';
import type { ContainerSpec, PortBinding } from '../../containers.js';
import { ANN, CONTAINER, POD_LABELS, podLabels } from './names.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface PodInput {
  spec: ContainerSpec;
  id: string;
  name: string;
  pod: string;
  namespace: string;
  node: string;
  pullPolicy: PullPolicy;
  /** Names of the PersistentVolumeClaims in the namespace (`-v NAME:/path` mounts one when it exists). */
  claims: Set<string>;
  /** The process as docker shows it (entrypoint and cmd, the image's where the flags give none). */
  command: string[];
  ports: PortBinding[];
  /** docker's default stop timeout: the pod's grace period. */
  stopTimeout?: number;
}

export const notOnKube = (what: string, hint: string) => unimplemented(`${what} is not supported on the kube backend`, { hint });

/** `-p [IP:]HOST:CONTAINER[/tcp]`: the local end of a port-forward (TCP only). */
export function parsePublish(p: string): PortBinding {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}|localhost):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(p);
  if (!m) throw invalidArgument(`invalid -p "${p}"`, { hint: 'on the kube backend give [127.0.0.1:]HOST_PORT:CONTAINER_PORT (a port-forward needs both ports)' });
  if (m[4] === 'udp') throw notOnKube(`-p ${p} (UDP)`, "the API server's port-forward carries TCP only");
  const hostIp = m[1] === 'localhost' || m[1] === undefined ? '127.0.0.1' : m[1];
  return { hostIp, hostPort: Number(m[2]), containerPort: Number(m[3]), protocol: 'tcp' };
}

function securityContext(s: ContainerSpec): V1Container['securityContext'] {
  const sc: NonNullable<V1Container['securityContext']> = {};
  if (s.user !== undefined) {
    const m = /^(\d+)(?::(\d+))?$/.exec(s.user);
    if (!m) throw notOnKube(`-u ${s.user} (a user name)`, 'a pod runs as a numeric uid: give -u UID[:GID]');
    sc.runAsUser = Number(m[1]);
    if (m[2] !== undefined) sc.runAsGroup = Number(m[2]);
  }
  if (s.readOnly) sc.readOnlyRootFilesystem = true;
  if (s.privileged) sc.privileged = true;
  const cap = (c: string) => c.toUpperCase().replace(/^CAP_/, '');
  if (s.capAdd?.length || s.capDrop?.length) sc.capabilities = { ...(s.capAdd?.length ? { add: s.capAdd.map(cap) } : {}), ...(s.capDrop?.length ? { drop: s.capDrop.map(cap) } : {}) };
  return Object.keys(sc).length ? sc : undefined;
}

function volumes(s: ContainerSpec, claims: Set<string>): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (s.mounts?.length) throw notOnKube('--mount', 'use -v NAME:/path (an emptyDir, or the PersistentVolumeClaim NAME) or --tmpfs /path');
  const vols: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  for (const [i, v] of (s.volumes ?? []).entries()) {
    const [src, dst, mode, ...rest] = v.split(':');
    if (!src || !dst || rest.length || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) throw invalidArgument(`invalid -v "${v}"`, { hint: 'give NAME:/path[:ro]' });
    if (src.startsWith('/') || src.startsWith('.')) throw notOnKube(`-v ${v} (a directory of this machine)`, 'the pod runs on the builder node: use -v NAME:/path (an emptyDir, or the PersistentVolumeClaim NAME)');
    const name = `v${i}`;
    vols.push(claims.has(src) ? { name, persistentVolumeClaim: { claimName: src } } : { name, emptyDir: {} });
    mounts.push({ name, mountPath: dst, ...(mode === 'ro' ? { readOnly: true } : {}) });
  }
  for (const [i, t] of (s.tmpfs ?? []).entries()) {
    const name = `t${i}`;
    vols.push({ name, emptyDir: { medium: 'Memory' } });
    mounts.push({ name, mountPath: t.split(':')[0]! });
  }
  return { volumes: vols, mounts };
}

/** The kubelet expands `$(VAR)` in command, args and env values (`$$` is a plain `$`); docker does not. */
const literal = (words: string[]) => words.map((w) => w.replace(/\$/g, '$$$$'));

export function podFor(i: PodInput): V1Pod {
  const s = i.spec;
  if (s.network === 'none') throw notOnKube('--network none', 'a pod always has its network; drop --network (the pod network) or use --network host');
  if (s.pidsLimit !== undefined) throw notOnKube('--pids-limit', "a pod's process limit is the node's (the kubelet's podPidsLimit)");
  if (s.hostname !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s.hostname)) throw notOnKube(`--hostname ${s.hostname}`, 'a pod hostname is a DNS label: lowercase letters, digits and -');
  const { volumes: vols, mounts } = volumes(s, i.claims);
  const limits: Record<string, string> = {};
  if (s.memory !== undefined) limits.memory = String(s.memory);
  if (s.cpus !== undefined) limits.cpu = `${Math.round(s.cpus * 1000)}m`;
  const sc = securityContext(s);
  // `--entrypoint ""` clears the image's entrypoint: the command is then the arguments (or the image's Cmd, in i.command).
  const clearEntrypoint = s.entrypoint !== undefined && s.entrypoint.length === 0;
  const container: V1Container = {
    name: CONTAINER,
    image: s.image,
    imagePullPolicy: i.pullPolicy,
    ...(clearEntrypoint ? { command: literal(i.command) } : s.entrypoint ? { command: literal(s.entrypoint) } : {}),
    ...(!clearEntrypoint && s.cmd?.length ? { args: literal(s.cmd) } : {}),
    ...(s.env?.length ? { env: s.env.map((e) => ({ name: e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), value: literal([e.includes('=') ? e.slice(e.indexOf('=') + 1) : ''])[0]! })) } : {}),
    ...(s.workdir ? { workingDir: s.workdir } : {}),
    ...(sc ? { securityContext: sc } : {}),
    ...(Object.keys(limits).length ? { resources: { limits } } : {}),
    ...(s.interactive ? { stdin: true, stdinOnce: true } : {}),
    ...(s.tty ? { tty: true } : {}),
    ...(i.ports.length ? { ports: i.ports.map((p) => ({ containerPort: p.containerPort, protocol: 'TCP' })) } : {}),
    ...(mounts.length ? { volumeMounts: mounts } : {}),
  };
  const labels = s.labels ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: i.pod,
      namespace: i.namespace,
      labels: { ...podLabels(labels), ...POD_LABELS },
      annotations: {
        [ANN.id]: i.id,
        [ANN.name]: i.name,
        [ANN.image]: s.image,
        [ANN.command]: JSON.stringify(i.command),
        [ANN.ports]: JSON.stringify(i.ports),
        [ANN.labels]: JSON.stringify(labels),
        [ANN.spec]: JSON.stringify(s),
        ...(s.autoRemove ? { [ANN.autoRemove]: 'true' } : {}),
      },
    },
    spec: {
      nodeName: i.node,
      restartPolicy: s.restart === 'on-failure' ? 'OnFailure' : s.restart === 'always' || s.restart === 'unless-stopped' ? 'Always' : 'Never',
      terminationGracePeriodSeconds: i.stopTimeout ?? 10,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(s.hostname ? { hostname: s.hostname } : {}),
      ...(s.network === 'host' ? { hostNetwork: true } : {}),
      ...(s.init ? { shareProcessNamespace: true } : {}),
      ...(s.dns?.length ? { dnsPolicy: 'None', dnsConfig: { nameservers: s.dns } } : {}),
      ...(s.addHost?.length ? { hostAliases: hostAliases(s.addHost) } : {}),
      ...(vols.length ? { volumes: vols } : {}),
      containers: [container],
    },
  };
}

function hostAliases(addHost: string[]): { ip: string; hostnames: string[] }[] {
  const byIp = new Map<string, string[]>();
  for (const h of addHost) {
    const j = h.indexOf(':');
    if (j < 1) throw invalidArgument(`invalid --add-host "${h}"`, { hint: 'give NAME:IP' });
    const ip = h.slice(j + 1);
    byIp.set(ip, [...(byIp.get(ip) ?? []), h.slice(0, j)]);
  }
  return [...byIp].map(([ip, hostnames]) => ({ ip, hostnames }));
}
