/**
 * A real one-node Kubernetes cluster (upstream v1.34, built by
 * scripts/kube-build.sh) with kiln feeding its containerd: a busybox image
 * imported by kiln into the k8s.io namespace runs in a pod (imagePullPolicy
 * Never), `kubectl logs` and `kubectl exec` see it, and stop() leaves nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { kilnOk, repoRoot, testCache } from '../kiln.js';
import { tempDir } from '../tempdir.js';
import { kubeBinaries } from './binaries.js';
import { startCluster, type TestCluster } from './cluster.js';
import { netnsInode, processesInNetns } from './netns.js';
import { processesInCgroup } from './cgroups.js';
import { loadState, type ClusterState } from './state.js';
import { hostTraces, leftovers } from './teardown.js';
import { HOST_DIRS, liveClusters, readSysctls, recordedHost, type HostState } from './hostwide.js';

const run = promisify(execFile);
let cluster: TestCluster;
let state: ClusterState;
let recorded: HostState;
let iptablesBefore: string[];
let startedAt: number;
const exists = (p: string) => stat(p).then(() => true, () => false);

/** Host iptables lines this cluster could have added: KUBE-* chains, its pod subnet, its CNI network's name (kiln's own CNI- rules are not ours). */
async function clusterRules(network?: string): Promise<string[]> {
  const { stdout } = await run('iptables-save');
  return stdout.split('\n').filter((l) => /KUBE-|10\.244\./.test(l) || (network !== undefined && l.includes(network))).sort();
}

before(async () => {
  iptablesBefore = await clusterRules();
  startedAt = Date.now();
  cluster = await startCluster();
  state = await loadState(cluster.dir);
  recorded = (await recordedHost())!;
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
  t.diagnostic(`pod Running ${Date.now() - created} ms after kubectl apply, ${Date.now() - startedAt} ms after startCluster()`);

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

test('stop() leaves no process, mount, network namespace, cgroup, CNI result, shim socket, iptables rule, log symlink or directory, and restores the kubelet sysctls', async (t) => {
  assert.ok(recorded, 'the host state was recorded before the kubelet started');
  assert.equal((await readSysctls())['kernel/panic'], '10', 'the kubelet set kernel.panic while running');
  const traces = await hostTraces(state);
  assert.equal(traces.cniSandboxIds.length, 1, 'the pod of the test before has its CNI result');
  assert.equal(traces.shimSockets.length, 1, 'the pod of the test before has its shim');
  const started = Date.now();
  await cluster.stop();
  t.diagnostic(`teardown ${Date.now() - started} ms`);
  assert.deepEqual(await leftovers(state, traces), []);
  assert.deepEqual(await clusterRules(state.network), iptablesBefore);
  // Host-wide state comes back when the last cluster on the machine stops (another test file may run one meanwhile).
  const live = await liveClusters();
  assert.ok(!live.includes(state.id));
  if (live.length === 0) {
    assert.deepEqual(await readSysctls(), recorded.sysctls);
    for (const d of HOST_DIRS) assert.equal(await exists(d), recorded.existed[d], `${d} there as before`);
    assert.equal(await recordedHost(), undefined);
  } else {
    assert.deepEqual((await recordedHost())?.sysctls, recorded.sysctls, `still recorded for the clusters ${live.join(', ')}`);
  }
});

test('a component that cannot start: startCluster names it with the end of its log, and leaves only its directory (for the logs)', async () => {
  const bins = await kubeBinaries();
  const fake = await tempDir('kiln-kube-fake-');
  const kube = path.join(fake, 'kube');
  await writeFile(kube, '#!/bin/sh\necho "kube $1: cannot start here" >&2\nexit 3\n', { mode: 0o755 });
  const err = await startCluster({ binaries: { ...bins, kube } }).then(
    (c) => c.stop().then(() => assert.fail('started')),
    (e: Error) => e,
  );
  const dir = /^test cluster in (\S+):/.exec(err.message)?.[1];
  assert.ok(dir, err.message);
  assert.match(err.message, /^test cluster in \S+: etcd: etcd exited with 3; end of \S+\/logs\/etcd\.log:\nkube etcd: cannot start here\n/);
  const failed = await loadState(dir);
  assert.deepEqual(await leftovers(failed), [`directory ${dir}`]);
  await rm(dir, { recursive: true });
  await rm(fake, { recursive: true });
});

test('scripts/cluster.sh up DIR starts the same cluster and exits, leaving it running; down DIR removes all of it', async () => {
  const dir = path.join(await tempDir('kiln-kube-cli-'), 'cluster');
  const script = path.join(repoRoot(), 'scripts', 'cluster.sh');
  const up = await run('bash', [script, 'up', dir], { timeout: 180_000 });
  assert.match(up.stdout, new RegExp(`^KUBECONFIG=${dir}/admin\\.kubeconfig$`, 'm'));
  const nodeName = /^node: (\S+) \(10\.201\.0\.2, network namespace (\S+);/m.exec(up.stdout)?.[1];
  assert.ok(nodeName, up.stdout);
  assert.match(up.stdout, new RegExp(`^containerd: ${dir}/containerd/containerd\\.sock$`, 'm'));
  const upState = await loadState(dir);
  assert.equal(upState.nodeName, nodeName);
  const nodes = await run(path.join(dir, 'kubectl'), ['get', 'nodes', '-o', 'name']);
  assert.equal(nodes.stdout, `node/${nodeName}\n`);
  const down = await run('bash', [script, 'down', dir], { timeout: 60_000 });
  assert.equal(down.stdout, `cluster in ${dir} stopped and removed\n`);
  assert.deepEqual(await leftovers(upState), []);
  await rm(path.dirname(dir), { recursive: true });
});
