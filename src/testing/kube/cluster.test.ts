/**
 * A real one-node Kubernetes cluster (upstream v1.34, built by
 * scripts/kube-build.sh) with kiln feeding its containerd: a busybox image
 * imported by kiln into the k8s.io namespace runs in a pod (imagePullPolicy
 * Never), `kubectl logs` and `kubectl exec` see it, and stop() leaves nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { kilnOk, testCache } from '../kiln.js';
import { startCluster, type TestCluster } from './cluster.js';
import { netnsInode, processesInNetns } from './netns.js';
import { processesInCgroup } from './cgroups.js';
import { loadState, type ClusterState } from './state.js';
import { leftovers } from './teardown.js';
import { CONTAINER_LOG_LINKS, readSysctls } from './hostwide.js';

const run = promisify(execFile);
let cluster: TestCluster;
let state: ClusterState;
let sysctlsBefore: Record<string, string>;
let iptablesBefore: string[];
let logLinksBefore: boolean;
const exists = (p: string) => stat(p).then(() => true, () => false);

/** Host iptables chains and rules that a cluster could add (KUBE-*, CNI-*). */
async function clusterRules(): Promise<string[]> {
  const { stdout } = await run('iptables-save');
  return stdout.split('\n').filter((l) => /KUBE-|CNI-|kiln-kube/.test(l)).sort();
}

before(async () => {
  sysctlsBefore = await readSysctls();
  iptablesBefore = await clusterRules();
  logLinksBefore = await exists(CONTAINER_LOG_LINKS);
  cluster = await startCluster();
  state = await loadState(cluster.dir);
});
after(async () => {
  await cluster?.stop();
});

test('the node becomes Ready, with the server and kubectl at the same version', async (t) => {
  t.diagnostic(`API server ready ${cluster.timings.apiserverReadyMs} ms, node Ready ${cluster.timings.nodeReadyMs} ms after start`);
  const nodes = JSON.parse(await cluster.kubectl(['get', 'nodes', '-o', 'json'])) as {
    items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } } }[];
  };
  assert.deepEqual(nodes.items.map((n) => n.metadata.name), [cluster.nodeName]);
  const node = nodes.items[0]!;
  assert.equal(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
  assert.deepEqual(node.status.addresses.find((a) => a.type === 'InternalIP')?.address, cluster.nodeIP);
  assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);
  const versions = JSON.parse(await cluster.kubectl(['version', '-o', 'json'])) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
  assert.match(versions.serverVersion.gitVersion, /^v1\.34\.\d+$/);
  assert.equal(versions.clientVersion.gitVersion, versions.serverVersion.gitVersion);
  assert.equal(node.status.nodeInfo.kubeletVersion, versions.serverVersion.gitVersion);
});

test('a busybox image kiln imported into the cluster containerd runs in a pod; kubectl logs shows its output, kubectl exec runs in it', async (t) => {
  const image = 'kiln.test/busybox:1';
  await kilnOk(['--backend', 'containerd', '--address', cluster.containerdSocket, '--namespace', 'k8s.io', 'import', path.join(testCache(), 'busybox-rootfs.tar'), image],
    { root: path.join(cluster.dir, 'kiln-test-root') });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'hello', namespace: 'default' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'hello', image, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo "hello from a kiln image on $(hostname)"; exec sleep 3600'] }],
    },
  };
  const created = Date.now();
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  await cluster.kubectl(['wait', '--for=condition=Ready', 'pod/hello', '--timeout=90s'], { timeoutMs: 100_000 });
  t.diagnostic(`pod Running ${Date.now() - created} ms after kubectl apply`);

  const deadline = Date.now() + 20_000;
  let logs = '';
  while (!logs && Date.now() < deadline) logs = await cluster.kubectl(['logs', 'hello']);
  assert.equal(logs, 'hello from a kiln image on hello\n');

  const out = await cluster.kubectl(['exec', 'hello', '--', 'sh', '-c', 'echo $((6 * 7)) > /tmp/answer && cat /tmp/answer && cat /etc/hostname']);
  assert.equal(out, '42\nhello\n');
  const ip = (await cluster.kubectl(['get', 'pod', 'hello', '-o', 'jsonpath={.status.podIP}'])).trim();
  assert.match(ip, /^10\.244\.0\.\d+$/);

  const inode = (await netnsInode(cluster.netns))!;
  const pids = [...new Set([...(await processesInNetns(inode)), ...(await processesInCgroup(state.cgroupRoot))])];
  let rssKb = 0;
  for (const pid of pids) rssKb += Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1] ?? 0);
  t.diagnostic(`cluster RSS ${(rssKb / 1024).toFixed(0)} MiB in ${pids.length} processes`);
});

test('stop() leaves no process, mount, network namespace, cgroup, CNI result, iptables rule, log symlink or directory, and restores the kubelet sysctls', async (t) => {
  const during = await readSysctls();
  assert.equal(during['vm/overcommit_memory'], '1', 'the kubelet set vm.overcommit_memory while running');
  const started = Date.now();
  await cluster.stop();
  t.diagnostic(`teardown ${Date.now() - started} ms`);
  assert.deepEqual(await leftovers(state), []);
  assert.deepEqual(await readSysctls(), sysctlsBefore);
  assert.deepEqual(await clusterRules(), iptablesBefore);
  assert.equal(await exists(CONTAINER_LOG_LINKS), logLinksBefore, `${CONTAINER_LOG_LINKS} as before`);
});
