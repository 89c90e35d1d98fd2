/** Picking the builder node and its containerd paths: every refusal is one line naming the nodes and what to pass. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node } from '@kubernetes/client-node';
import { isKilnError } from '../errors.js';
import { chooseNode, containerdPaths } from './nodes.js';

const node = (name: string, o: { labels?: Record<string, string>; unschedulable?: boolean; runtime?: string; kubelet?: string } = {}): V1Node => ({
  metadata: { name, labels: o.labels ?? {} },
  spec: { unschedulable: o.unschedulable },
  status: { nodeInfo: { containerRuntimeVersion: o.runtime ?? 'containerd://1.7.24', kubeletVersion: o.kubelet ?? 'v1.31.2' } as never },
});
const where = 'context "c" (https://h:6443)';
const message = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(isKilnError(e));
    return `${e.message} (${e.hint})`;
  }
  assert.fail('no error');
};

test('one node: it is chosen; a cordoned one is skipped', () => {
  assert.equal(chooseNode([node('a')], undefined, where).metadata!.name, 'a');
  assert.equal(chooseNode([node('a', { unschedulable: true }), node('b')], undefined, where).metadata!.name, 'b');
});

test('two candidates and no --selector: refused, naming them and the flag', () => {
  assert.equal(message(() => chooseNode([node('a'), node('b')], undefined, where)), '2 nodes in context "c" (https://h:6443) could run the kiln agent (a, b) (pick the builder node with --selector, e.g. --selector kubernetes.io/hostname=a)');
});

test('a node already labelled builder wins without --selector', () => {
  assert.equal(chooseNode([node('a'), node('b', { labels: { 'node-role.kubernetes.io/builder': 'true' } })], undefined, where).metadata!.name, 'b');
});

test('a selector matching nothing, or several nodes, is refused', () => {
  assert.equal(message(() => chooseNode([], 'disk=ssd', where)), '--selector disk=ssd matches no node in context "c" (https://h:6443) (see the nodes and their labels with kubectl get nodes --show-labels)');
  assert.match(message(() => chooseNode([node('a'), node('b')], 'disk=ssd', where)), /^--selector disk=ssd matches 2 nodes in .* \(a, b\); the agent runs on one builder node \(narrow it, e.g. --selector kubernetes.io\/hostname=a\)$/);
  assert.equal(chooseNode([node('x')], 'disk=ssd', where).metadata!.name, 'x');
});

test('only cordoned nodes: refused', () => {
  assert.match(message(() => chooseNode([node('a', { unschedulable: true })], undefined, where)), /^no schedulable node in .* \(cordoned: a\)/);
});

test("containerd paths come from the node's runtime: k3s, RKE2, plain containerd; overrides win", () => {
  assert.deepEqual(containerdPaths(node('a', { runtime: 'containerd://1.7.23-k3s2', kubelet: 'v1.31.4+k3s1' })), { flavour: 'k3s', socket: '/run/k3s/containerd/containerd.sock', root: '/var/lib/rancher/k3s/agent/containerd', state: '/run/k3s/containerd' });
  assert.equal(containerdPaths(node('a', { kubelet: 'v1.31.4+rke2r1' })).root, '/var/lib/rancher/rke2/agent/containerd');
  assert.deepEqual(containerdPaths(node('a')), { flavour: 'containerd', socket: '/run/containerd/containerd.sock', root: '/var/lib/containerd', state: '/run/containerd' });
  assert.deepEqual(containerdPaths(node('a'), { socket: '/tmp/x/c.sock', root: '/tmp/x/root' }), { flavour: 'custom', socket: '/tmp/x/c.sock', root: '/tmp/x/root', state: '/tmp/x' });
  assert.equal(message(() => containerdPaths(node('a', { runtime: 'cri-o://1.30' }))), 'node a runs cri-o://1.30; the kiln agent works over containerd (pick a containerd node with --selector, or name its socket with --containerd-socket)');
  assert.match(message(() => containerdPaths(node('a'), { root: 'relative' })), /^--containerd-root relative: not an absolute path on the node/);
});
