// What the Kubernetes benches share: the repo's executables, a work dir, the harness cluster
// (src/testing/kube) with helpers that run kiln and kubectl in its node's network namespace, and
// kiln installed into it (the agent image built into the node's containerd, `kiln install`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startCluster } from '../../dist/testing/kube/cluster.js';

export const run = promisify(execFile);
export const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const main = path.join(repo, 'dist/cli/main.js');
/** The packaged executable, as users run it (its V8 code cache starts it in a tenth of a second); else node. */
export const exe = existsSync(path.join(repo, 'dist/kiln')) ? [path.join(repo, 'dist/kiln')] : [process.execPath, main];
export const cache = process.env.KILN_TEST_CACHE ?? '/var/cache/kiln-test';
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
export const secs = (ms) => (ms / 1000).toFixed(2);

/** A fresh work dir /var/tmp/kiln-bench-NAME.PID (with home/) and a started cluster. */
export async function kubeBench(name) {
  const work = `/var/tmp/kiln-bench-${name}.${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, 'home'), { recursive: true });
  const c = await startCluster();
  const ns = `/run/netns/${c.netns}`;
  const env = { ...process.env, HOME: path.join(work, 'home') };
  const inNs = (argv, o = {}) => run('nsenter', [`--net=${ns}`, '--', ...argv], { maxBuffer: 64 << 20, ...o });
  /** The argv of kiln as the client in the node's namespace (root ROOT, the cluster's kubeconfig). */
  const kilnArgv = (args, root = path.join(work, 'client')) => ['nsenter', `--net=${ns}`, '--', ...exe, '--root', root, '-k', c.kubeconfig, ...args];
  const kiln = (args, o = {}) => inNs(kilnArgv(args).slice(3), { env, ...o });
  const kubectl = (args) => inNs([c.kube, 'kubectl', '--kubeconfig', c.kubeconfig, ...args]);
  const ctd = path.join(c.dir, 'containerd');
  /** The agent image into the node's containerd, then `kiln install` with the harness's containerd paths. */
  const install = async () => {
    await run(process.execPath, [main, '--root', path.join(work, 'node'), '--backend', 'containerd', '--address', path.join(ctd, 'containerd.sock'), '--namespace', 'k8s.io', 'system', 'agent-image']);
    await kiln(['install', '--image-pull-policy', 'Never', '--containerd-socket', path.join(ctd, 'containerd.sock'), '--containerd-root', path.join(ctd, 'root'), '--containerd-state', path.join(ctd, 'state'), '--agent-root', path.join(work, 'agent')]);
  };
  const stop = async () => {
    await c.stop();
    await rm(work, { recursive: true, force: true });
  };
  return { c, work, ns, env, ctd, inNs, kilnArgv, kiln, kubectl, install, stop };
}
