// The kube backend's fixed cost per command on the harness cluster (src/testing/kube), in the
// node's network namespace: `kiln --backend kube images` against `kubectl get pods -n kiln`, and a
// no-change `kiln --backend kube build`. Rounds interleaved; min and median of RUNS (default 7).
// KILN_EXE=/path/to/kiln measures another build of kiln (e.g. the previous commit's dist/kiln).
// HOLD=FILE keeps the cluster up afterwards (FILE says how to reach it) until FILE is removed.
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cache, kubeBench, median, secs } from './lib/kube-bench.mjs';

const RUNS = Number(process.env.RUNS ?? 7);
const { work, kiln, kubectl, install, inNs, kilnArgv, env, stop } = await kubeBench('kstart');
const timed = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
try {
  await install();
  const base = 'docker.io/bench/busybox:1';
  await kiln(['--backend', 'kube', 'import', path.join(cache, 'busybox-rootfs.tar'), base]);
  const ctx = path.join(work, 'ctx');
  await mkdir(ctx, { recursive: true });
  await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY index.html /www/\n`);
  await writeFile(path.join(ctx, 'index.html'), 'v0\n');
  await kiln(['--backend', 'kube', 'build', '-q', '-t', 'demo:dev', ctx]);
  const other = process.env.KILN_EXE;
  const argvOf = (args) => {
    const a = kilnArgv(args).slice(3);
    if (other) a.splice(0, a.indexOf('--root'), other);
    return a;
  };
  const r = { kubectl: [], images: [], build: [] };
  const load = [];
  for (let i = 0; i < RUNS; i++) {
    load.push((await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '));
    r.kubectl.push(await timed(() => kubectl(['get', 'pods', '-n', 'kiln'])));
    r.images.push(await timed(() => inNs(argvOf(['--backend', 'kube', 'images']), { env })));
    r.build.push(await timed(() => inNs(argvOf(['--backend', 'kube', 'build', '-q', '-t', 'demo:dev', ctx]), { env })));
  }
  for (const [k, xs] of Object.entries(r)) console.log(`${k.padEnd(8)} min ${secs(Math.min(...xs))} s  median ${secs(median(xs))} s  (${xs.map(secs).join(' ')})`);
  console.log(`loadavg: ${load.join(' | ')}`);
  if (process.env.HOLD) {
    console.log(`holding: kiln argv ${JSON.stringify(argvOf(['--backend', 'kube', 'images']))} env HOME=${env.HOME}; remove ${process.env.HOLD} to stop`);
    await writeFile(process.env.HOLD, JSON.stringify({ argv: kilnArgv([]), home: env.HOME, ctx }));
    const { existsSync } = await import('node:fs');
    while (existsSync(process.env.HOLD)) await new Promise((res) => setTimeout(res, 1000));
  }
} finally {
  await stop();
}
