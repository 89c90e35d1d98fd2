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
// Wall ms of argv, and its CPU ms (user + sys) from GNU time's last stderr line.
const cpu = {};
const timedCpu = async (name, argv) => {
  let out;
  const ms = await timed(async () => (out = await inNs(['/usr/bin/time', '-f', 'cpu %U %S', ...argv], { env })));
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(out.stderr);
  (cpu[name] ??= []).push(m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN);
  return ms;
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
  const argvOf = (args, other = process.env.KILN_EXE) => {
    const a = kilnArgv(args).slice(3);
    if (other) a.splice(0, a.indexOf('--root'), other);
    return a;
  };
  const before = process.env.KILN_EXE_BEFORE;
  const r = { kubectl: [], images: [], build: [], ...(before ? { 'images@before': [], 'build@before': [] } : {}) };
  const load = [];
  for (let i = 0; i < RUNS; i++) {
    load.push((await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' '));
    r.kubectl.push(await timed(() => kubectl(['get', 'pods', '-n', 'kiln'])));
    const sides = before ? (i % 2 ? ['', '@before'] : ['@before', '']) : [''];
    for (const side of sides) {
      const exe = side ? before : undefined;
      r[`images${side}`].push(await timedCpu(`images${side}`, argvOf(['--backend', 'kube', 'images'], exe)));
      r[`build${side}`].push(await timedCpu(`build${side}`, argvOf(['--backend', 'kube', 'build', '-q', '-t', 'demo:dev', ctx], exe)));
    }
  }
  for (const [k, xs] of Object.entries(r)) {
    const c = cpu[k] ? `  CPU min ${secs(Math.min(...cpu[k]))} s  median ${secs(median(cpu[k]))} s` : '';
    console.log(`${k.padEnd(13)} min ${secs(Math.min(...xs))} s  median ${secs(median(xs))} s${c}  (${xs.map(secs).join(' ')})`);
  }
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
