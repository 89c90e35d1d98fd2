// `run --rm IMAGE true` on the harness cluster (src/testing/kube): kiln's kube backend (a pod on the
// builder node through the API server, the image checked through the agent, its log followed, the
// exit code read, the pod deleted) vs `kubectl run --rm -i --restart=Never --image IMAGE` (the same
// cluster's kubectl, imagePullPolicy Never as kiln picks for an image the node has). Both in the
// node's network namespace, both in namespace kiln. Medians of RUNS runs (default 7), the ratio; aim ≤ 0.8×.
import path from 'node:path';
import { cache, exe, kubeBench, median, secs } from './lib/kube-bench.mjs';

const RUNS = Number(process.env.RUNS ?? 7);
const { kiln, kubectl, install, stop } = await kubeBench('kube-run');
try {
  await install();
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
  await stop();
}
