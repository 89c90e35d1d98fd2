// `run --rm IMAGE true` on the harness cluster (src/testing/kube): kiln's kube backend (a pod on the
// builder node through the API server, the image checked through the agent, its log followed, the
// exit code read, the pod deleted) vs `kubectl run --rm -i --restart=Never --image IMAGE` (the same
// cluster's kubectl, imagePullPolicy Never as kiln picks for an image the node has). Both in the
// node's network namespace, both in namespace kiln. Medians of RUNS runs (default 7), the ratio; aim ≤ 0.8×.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../dist/testing/kube/cluster.js';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const main = path.join(repo, 'dist/cli/main.js');
// The packaged executable, as users run it; else node.
const exe = existsSync(path.join(repo, 'dist/kiln')) ? [path.join(repo, 'dist/kiln')] : [process.execPath, main];
const cache = process.env.KILN_TEST_CACHE ?? '/var/cache/kiln-test';
const RUNS = Number(process.env.RUNS ?? 7);
const work = `/var/tmp/kiln-bench-kube-run.${process.pid}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const secs = (ms) => (ms / 1000).toFixed(2);

await rm(work, { recursive: true, force: true });
await mkdir(path.join(work, 'home'), { recursive: true });
const c = await startCluster();
const inNs = (argv, o = {}) => run('nsenter', [`--net=/run/netns/${c.netns}`, '--', ...argv], { maxBuffer: 64 << 20, ...o });
const kiln = (args) => inNs([...exe, '--root', path.join(work, 'client'), '-k', c.kubeconfig, ...args], { env: { ...process.env, HOME: path.join(work, 'home') } });
const kubectl = (args) => inNs([c.kube, 'kubectl', '--kubeconfig', c.kubeconfig, ...args]);
const ctd = path.join(c.dir, 'containerd');
try {
  await run(process.execPath, [main, '--root', path.join(work, 'node'), '--backend', 'containerd', '--address', path.join(ctd, 'containerd.sock'), '--namespace', 'k8s.io', 'system', 'agent-image']);
  await kiln(['install', '--image-pull-policy', 'Never', '--containerd-socket', path.join(ctd, 'containerd.sock'), '--containerd-root', path.join(ctd, 'root'), '--containerd-state', path.join(ctd, 'state'), '--agent-root', path.join(work, 'agent')]);
  const image = 'docker.io/bench/busybox:1';
  await kiln(['--backend', 'kube', 'import', path.join(cache, 'busybox-rootfs.tar'), image]);
  // One of each first: the node's first pod pays for things neither side does again.
  await kiln(['--backend', 'kube', 'run', '--rm', image, 'true']);
  await kubectl(['-n', 'kiln', 'run', 'warm', '--rm', '-i', '--restart=Never', '--image', image, '--image-pull-policy=Never', '--', 'true']);
  const kilnMs = [];
  const kubectlMs = [];
  for (let i = 0; i < RUNS; i++) {
    let t0 = Date.now();
    await kiln(['--backend', 'kube', 'run', '--rm', image, 'true']);
    kilnMs.push(Date.now() - t0);
    t0 = Date.now();
    await kubectl(['-n', 'kiln', 'run', `bench-${i}`, '--rm', '-i', '--restart=Never', '--image', image, '--image-pull-policy=Never', '--', 'true']);
    kubectlMs.push(Date.now() - t0);
  }
  const left = (await kubectl(['-n', 'kiln', 'get', 'pods', '-l', 'kiln.dev/container=true', '-o', 'name'])).stdout.trim();
  if (left) throw new Error(`kiln run --rm left pods: ${left}`);
  const k = median(kilnMs);
  const q = median(kubectlMs);
  console.log(`image: busybox (kiln import into the node's containerd); ${RUNS} runs each, median; ${exe.length === 1 ? 'dist/kiln' : 'node dist/cli/main.js'}`);
  console.log(`kube run --rm true: kiln ${secs(k)}s  kubectl run --rm -i ${secs(q)}s  ratio ${(k / q).toFixed(2)}x (aim ≤ 0.8x)  [kiln ${kilnMs.map(secs).join(' ')}] [kubectl ${kubectlMs.map(secs).join(' ')}]`);
} finally {
  await c.stop();
  await rm(work, { recursive: true, force: true });
}
