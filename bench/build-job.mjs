// kiln build --job vs kiln build, the same Dockerfile (busybox base from the registry, COPY of the
// context, three RUN steps), both pushing to a registry on the node's address in its network
// namespace. Each round: the Job (pod start, context through the API server, pull, build, push,
// cleanup) and a local build in a fresh root (pull, build, push). Medians of RUNS (default 3) and
// the Job's phases: pod running (from the call), context sent, build ended.
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../dist/testing/kube/cluster.js';
import { startRegistry } from '../dist/testing/registry.js';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const exe = path.join(repo, 'dist/kiln');
const cache = process.env.KILN_TEST_CACHE ?? '/var/cache/kiln-test';
const RUNS = Number(process.env.RUNS ?? 3);
const work = `/var/tmp/kiln-bench-job.${process.pid}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const secs = (ms) => (ms / 1000).toFixed(2);

await rm(work, { recursive: true, force: true });
await mkdir(path.join(work, 'home'), { recursive: true });
const c = await startCluster();
const ns = `/run/netns/${c.netns}`;
let reg;
const env = { ...process.env, HOME: path.join(work, 'home'), KILN_REGISTRIES_CONFIG: path.join(work, 'registries.yaml') };
/** kiln in the node's namespace; resolves with stderr lines and the ms since the start at which each came. */
const kiln = (args, root = path.join(work, 'client')) =>
  new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('nsenter', [`--net=${ns}`, '--', exe, '--root', root, '-k', c.kubeconfig, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let rest = '';
    child.stderr.on('data', (d) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop();
      for (const l of parts) lines.push([Date.now() - t0, l]);
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: Date.now() - t0, lines }) : reject(new Error(`kiln ${args.join(' ')}: exit ${code}\n${lines.map((l) => l[1]).join('\n')}\n${rest}`))));
  });
try {
  reg = await startRegistry({ listen: c.nodeIP, netns: ns });
  await writeFile(path.join(work, 'registries.yaml'), `insecure: ["${reg.host}"]\n`);
  await run(exe, ['--root', path.join(work, 'node'), '--backend', 'containerd', '--address', c.containerdSocket, '--namespace', 'k8s.io', 'system', 'agent-image']);
  await kiln(['--backend', 'local', 'import', path.join(cache, 'busybox-rootfs.tar'), `${reg.host}/busybox:1`]);
  await kiln(['--backend', 'local', 'push', `${reg.host}/busybox:1`]);
  const ctx = path.join(work, 'ctx');
  await mkdir(path.join(ctx, 'src'), { recursive: true });
  for (let i = 0; i < 50; i++) await writeFile(path.join(ctx, 'src', `f${i}.txt`), `file ${i}\n`.repeat(2000));
  await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${reg.host}/busybox:1\nCOPY src /app/src\nRUN cat /app/src/*.txt | wc -l > /app/lines\nRUN dd if=/dev/urandom of=/app/blob bs=1M count=8 2>/dev/null\nRUN echo done > /app/done\n`);

  const job = [];
  const local = [];
  const phases = { running: [], sent: [] };
  for (let i = 0; i < RUNS; i++) {
    const j = await kiln(['build', '--job', '--insecure-registry', reg.host, '-t', `${reg.host}/bench-job:${i}`, ctx]);
    job.push(j.ms);
    const at = (re) => j.lines.find(([, l]) => re.test(l))?.[0];
    phases.running.push(at(/running: sending the context/));
    phases.sent.push(at(/^context sent/));
    const root = path.join(work, `local-${i}`);
    const l = await kiln(['--backend', 'local', 'build', '--push', '--progress', 'plain', '-t', `${reg.host}/bench-local:${i}`, ctx], root);
    local.push(l.ms);
    await rm(root, { recursive: true, force: true });
    process.stdout.write(`round ${i + 1}: job ${secs(j.ms)} s (pod running at ${secs(phases.running[i])} s, context sent at ${secs(phases.sent[i])} s), local ${secs(l.ms)} s\n`);
  }
  const mj = median(job);
  const ml = median(local);
  process.stdout.write(`build-job: kiln build --job ${secs(mj)} s, kiln build (fresh root, push) ${secs(ml)} s: ratio ${(mj / ml).toFixed(2)}x; `
    + `the Job's pod running after ${secs(median(phases.running))} s, context sent after ${secs(median(phases.sent))} s (medians of ${RUNS})\n`);
} finally {
  await reg?.stop();
  await c.stop();
  await rm(work, { recursive: true, force: true });
}
