// kiln build --job vs kiln build, the same Dockerfile (busybox base from the registry, COPY of the
// context, three RUN steps), both pushing to a registry on the node's address in its network
// namespace. Each round: the Job (pod start, context through the API server, pull, build, push,
// cleanup) and a local build in a fresh root (pull, build, push). Medians of RUNS (default 3) and
// the Job's phases: pod running (from the call), context sent, build ended.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startRegistry } from '../dist/testing/registry.js';
import { cache, exe, kubeBench, median, repo, run, secs } from './lib/kube-bench.mjs';

if (!existsSync(path.join(repo, 'dist/kiln'))) throw new Error('build --job runs the packaged executable in the pod: npm run package first');
const RUNS = Number(process.env.RUNS ?? 3);
const { c, work, kilnArgv, stop } = await kubeBench('job');
let reg;
const env = { ...process.env, HOME: path.join(work, 'home'), KILN_REGISTRIES_CONFIG: path.join(work, 'registries.yaml') };
/** kiln in the node's namespace; resolves with stderr lines and the ms since the start at which each came. */
const kiln = (args, root = path.join(work, 'client')) =>
  new Promise((resolve, reject) => {
    const t0 = Date.now();
    const [cmd, ...argv] = kilnArgv(args, root);
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  reg = await startRegistry({ listen: c.nodeIP, netns: `/run/netns/${c.netns}` });
  await writeFile(path.join(work, 'registries.yaml'), `insecure: ["${reg.host}"]\n`);
  await run(exe[0], ['--root', path.join(work, 'node'), '--backend', 'containerd', '--address', c.containerdSocket, '--namespace', 'k8s.io', 'system', 'agent-image']);
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
  await stop();
}
