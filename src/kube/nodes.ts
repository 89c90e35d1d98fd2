/**
 * Which node the agent runs on, and where that node's containerd keeps its
 * socket and root — pure functions of the Node objects, so every case is
 * unit-tested without a cluster.
 */
import type { V1Node } from '@kubernetes/client-node';
import { failedPrecondition, invalidArgument, notFound } from '../errors.js';
import { BUILDER_LABEL } from './names.js';
import type { ContainerdPaths } from './objects.js';

const name = (n: V1Node) => n.metadata?.name ?? '?';
const list = (ns: V1Node[]) => ns.map(name).join(', ');

/**
 * `matching`: the nodes the API returned for `--selector` (all nodes when there is none).
 * With a selector exactly one node must match; without one, the node already labelled
 * builder, else the one schedulable node; more than one is refused (name one with --selector).
 */
export function chooseNode(matching: V1Node[], selector: string | undefined, where: string): V1Node {
  if (selector !== undefined) {
    if (matching.length === 0) throw notFound(`--selector ${selector} matches no node in ${where}`, { hint: 'see the nodes and their labels with kubectl get nodes --show-labels' });
    if (matching.length > 1) throw invalidArgument(`--selector ${selector} matches ${matching.length} nodes in ${where} (${list(matching)}); the agent runs on one builder node`, { hint: `narrow it, e.g. --selector kubernetes.io/hostname=${name(matching[0]!)}` });
    return matching[0]!;
  }
  const labelled = matching.filter((n) => n.metadata?.labels?.[BUILDER_LABEL] === 'true');
  if (labelled.length === 1) return labelled[0]!;
  const schedulable = matching.filter((n) => !n.spec?.unschedulable);
  if (schedulable.length === 1) return schedulable[0]!;
  if (schedulable.length === 0) throw failedPrecondition(`no schedulable node in ${where}${matching.length ? ` (cordoned: ${list(matching)})` : ''}`, { hint: 'uncordon a node, or pick one with --selector kubernetes.io/hostname=NAME' });
  throw invalidArgument(`${schedulable.length} nodes in ${where} could run the kiln agent (${list(schedulable)})`, { hint: `pick the builder node with --selector, e.g. --selector kubernetes.io/hostname=${name(schedulable[0]!)}` });
}

export interface PathOverrides {
  socket?: string;
  root?: string;
  state?: string;
}

/** The node's containerd paths, from its runtime (k3s, RKE2, plain containerd as in kind), with the user's overrides on top. */
export function containerdPaths(node: V1Node, o: PathOverrides = {}): ContainerdPaths & { flavour: string } {
  const runtime = node.status?.nodeInfo?.containerRuntimeVersion ?? '';
  const kubelet = node.status?.nodeInfo?.kubeletVersion ?? '';
  if (runtime && !runtime.startsWith('containerd://') && !o.socket) {
    throw failedPrecondition(`node ${name(node)} runs ${runtime}; the kiln agent works over containerd`, { hint: 'pick a containerd node with --selector, or name its socket with --containerd-socket' });
  }
  let d: ContainerdPaths & { flavour: string };
  if (kubelet.includes('+rke2')) d = { flavour: 'rke2', socket: '/run/k3s/containerd/containerd.sock', root: '/var/lib/rancher/rke2/agent/containerd', state: '/run/k3s/containerd' };
  else if (kubelet.includes('+k3s') || runtime.includes('k3s')) d = { flavour: 'k3s', socket: '/run/k3s/containerd/containerd.sock', root: '/var/lib/rancher/k3s/agent/containerd', state: '/run/k3s/containerd' };
  else d = { flavour: 'containerd', socket: '/run/containerd/containerd.sock', root: '/var/lib/containerd', state: '/run/containerd' };
  for (const [flag, v] of [['--containerd-socket', o.socket], ['--containerd-root', o.root], ['--containerd-state', o.state]] as const) {
    if (v !== undefined && !v.startsWith('/')) throw invalidArgument(`${flag} ${v}: not an absolute path on the node`);
  }
  if (o.socket || o.root || o.state) {
    const socket = o.socket ?? d.socket;
    // A socket given alone: its directory is containerd's state (containerd's own layout).
    const state = o.state ?? (o.socket ? o.socket.slice(0, o.socket.lastIndexOf('/')) || undefined : d.state);
    return { flavour: 'custom', socket, root: o.root ?? d.root, ...(state ? { state } : {}) };
  }
  return d;
}
