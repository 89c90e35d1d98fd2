/**
 * startCluster(): a one-node Kubernetes cluster from upstream sources for
 * tests (and, through scripts/cluster.sh, for a person): etcd, the API
 * server, controller manager, scheduler, kubelet and containerd, all in a
 * network namespace of its own, with temp directories and a cgroup root of
 * its own. Started as a list of small steps (kind's style); a failure names
 * the step and shows the end of the component's log. stop() leaves nothing.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { kilnBin } from '../kiln.js';
import { tempDir } from '../tempdir.js';
import { kubeBinaries, type KubeBinaries } from './binaries.js';
import { createCgroupRoot } from './cgroups.js';
import * as c from './components.js';
import { cniConfig, containerdConfig, kubeconfig, kubeletConfig } from './configs.js';
import { createNetns, netnsPath } from './netns.js';
import { makeClusterPki } from './pki.js';
import { logTail, startInNetns, type Started } from './processes.js';
import { saveState, loadState, stateFile, type ClusterState } from './state.js';
import { holdHost } from './hostwide.js';
import { leftovers, teardown } from './teardown.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The image containerd runs as every pod's sandbox: made offline by kiln from testing/kube/pause/pause.c. */
export const PAUSE_IMAGE = 'kiln.test/pause:1';

export interface TestCluster {
  /** The cluster's directory: configs, certificates (pki/), logs (logs/NAME.log), data. */
  dir: string;
  /** The admin kubeconfig. Its server is the node address, reachable inside the node's network namespace only. */
  kubeconfig: string;
  /** The node's name (also its hostname in the Node object). */
  nodeName: string;
  /** The node's address inside its network namespace (the API server listens on NODE_IP:6443). */
  nodeIP: string;
  /** The network namespace every cluster process runs in (`/run/netns/NAME`); pod IPs are reachable from it. */
  netns: string;
  /** The kubelet's containerd (CRI) socket: `kiln --backend containerd --address SOCK --namespace k8s.io …` feeds it images. */
  containerdSocket: string;
  /** The multi-call executable (`kube kubectl …` is the matching kubectl). */
  kube: string;
  /** Milliseconds from the call to: the API server ready, the node Ready. */
  timings: { apiserverReadyMs: number; nodeReadyMs: number };
  /** Runs the cluster's own kubectl (same version as the server) with the admin kubeconfig in the node's namespace; resolves with stdout. */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** Runs any command inside the node's network namespace (e.g. kiln reaching a pod IP); resolves with stdout. */
  exec(argv: string[], opts?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<string>;
  /** Stops everything and removes the directory (set KILN_KEEP_TEST_DIRS=1 to keep it). Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  /** Use this (new or empty) directory instead of a temp one (scripts/cluster.sh). */
  dir?: string;
  /** Print one line per step to stderr. */
  verbose?: boolean;
  /** The executables (default: kubeBinaries(), from scripts/kube-build.sh's cache). */
  binaries?: KubeBinaries;
}

export async function startCluster(opts: StartClusterOptions = {}): Promise<TestCluster> {
  const t0 = Date.now();
  const bins = opts.binaries ?? (await kubeBinaries());
  const dir = opts.dir ? path.resolve(opts.dir) : await tempDir('kiln-kube-');
  const id = randomBytes(3).toString('hex');
  const s: ClusterState = {
    id, dir, netns: `kiln-kube-${id}`, cgroupRoot: `/kiln-kube-${id}`, nodeName: `kiln-node-${id}`, nodeIP: c.NODE_IP,
    network: `kiln-kube-${id}`, kube: bins.kube, pids: {},
  };
  const ctdDir = path.join(dir, 'containerd');
  const containerdSocket = path.join(ctdDir, 'containerd.sock');
  const kc = (name: string) => path.join(dir, `${name}.kubeconfig`);
  const kubeconfigs = { admin: kc('admin'), controllerManager: kc('controller-manager'), scheduler: kc('scheduler'), kubelet: kc('kubelet') };
  const procs: Record<string, Started> = {};
  const say = (line: string) => opts.verbose && process.stderr.write(`cluster: ${line} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`);
  const execIn = async (argv: string[], o: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}) => {
    const child = run('nsenter', [`--net=${netnsPath(s.netns)}`, '--', ...argv], { timeout: o.timeoutMs ?? 60_000, maxBuffer: 64 << 20, env: o.env });
    if (o.input !== undefined) child.child.stdin?.end(o.input);
    try {
      return (await child).stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${argv.slice(0, 3).join(' ')}: ${err.stderr?.trim() || err.message}`);
    }
  };
  const kubectl = (args: string[], o: { input?: string; timeoutMs?: number } = {}) =>
    execIn([bins.kube, 'kubectl', `--kubeconfig=${kubeconfigs.admin}`, ...args], o);
  const start = async (name: string, argv: string[]) => {
    procs[name] = startInNetns(s.netns, dir, name, argv);
    s.pids[name] = procs[name].pid;
    await saveState(s);
  };
  /** Polls check() until it is true; fails naming the step and showing the log of the component that exited or `log`. */
  const waitFor = async (step: string, log: string, check: () => Promise<boolean>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const [name, p] of Object.entries(procs)) {
        const exit = p.exited();
        if (exit) throw new Error(`${step}: ${name} ${exit}; end of ${p.logFile}:\n${await logTail(p.logFile)}`);
      }
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${step}: not done in ${timeoutMs / 1000}s; end of ${procs[log]?.logFile}:\n${await logTail(procs[log]?.logFile ?? '')}`);
      await sleep(200);
    }
  };

  if (await stat(stateFile(dir)).then(() => true, () => false)) {
    throw new Error(`${dir} already holds a test cluster (${stateFile(dir)}): stop it first (scripts/cluster.sh down ${dir})`);
  }
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  await saveState(s);
  try {
    await holdHost(id, dir);
    await createNetns(s.netns, c.NODE_CIDR);
    await createCgroupRoot(s.cgroupRoot);
    say(`network namespace ${s.netns}, cgroup ${s.cgroupRoot}`);

    await start('etcd', c.etcdArgs(bins.kube, dir));
    const [pki] = await Promise.all([
      makeClusterPki(path.join(dir, 'pki'), { nodeName: s.nodeName, nodeIP: s.nodeIP, serviceIP: c.SERVICE_IP }),
      writeContainerdFiles(ctdDir, s.network),
    ]);
    const server = `https://${s.nodeIP}:${c.API_PORT}`;
    await Promise.all([
      writeFile(kubeconfigs.admin, kubeconfig(server, pki.ca.cert, 'kubernetes-admin', pki.admin)),
      writeFile(kubeconfigs.controllerManager, kubeconfig(server, pki.ca.cert, 'system:kube-controller-manager', pki.controllerManager)),
      writeFile(kubeconfigs.scheduler, kubeconfig(server, pki.ca.cert, 'system:kube-scheduler', pki.scheduler)),
      writeFile(kubeconfigs.kubelet, kubeconfig(server, pki.ca.cert, `system:node:${s.nodeName}`, pki.kubelet)),
      writeFile(path.join(dir, 'kubelet.yaml'), kubeletConfig({ dir, nodeIP: s.nodeIP, caFile: pki.ca.cert, serving: pki.kubeletServing, cgroupRoot: s.cgroupRoot, containerdSocket })),
    ]);
    const layout: c.Layout = { dir, kube: bins.kube, pki, kubeconfigs };
    say('certificates and configuration written');

    await waitFor('etcd', 'etcd', async () => (await logTail(procs.etcd!.logFile, 50)).includes('ready to serve client requests'));
    await start('kube-apiserver', c.apiserverArgs(layout));
    await start('containerd', c.containerdArgs(ctdDir));
    await waitFor('containerd', 'containerd', async () => (await logTail(procs.containerd!.logFile, 500)).includes('containerd successfully booted'));
    await importPause(ctdDir, containerdSocket, bins.pause);
    say(`containerd up, ${PAUSE_IMAGE} imported`);

    await waitFor('kube-apiserver', 'kube-apiserver', async () => (await kubectl(['get', '--raw', '/readyz'], { timeoutMs: 10_000 })).trim() === 'ok');
    const apiserverReadyMs = Date.now() - t0;
    say('API server ready');
    await start('kube-controller-manager', c.controllerManagerArgs(layout));
    await start('kube-scheduler', c.schedulerArgs(layout));
    await start('kubelet', c.kubeletArgs(layout, s.nodeName));
    // The controller manager makes it too, seconds later; a pod created before then is refused.
    await kubectl(['create', 'serviceaccount', 'default', '--namespace=default']).catch((e: Error) => {
      if (!/AlreadyExists|already exists/.test(e.message)) throw e;
    });
    const readyPath = 'jsonpath={.status.conditions[?(@.type=="Ready")].status}';
    await waitFor('node Ready', 'kubelet', async () => (await kubectl(['get', 'node', s.nodeName, '-o', readyPath], { timeoutMs: 10_000 })).trim() === 'True');
    // Ready is not yet schedulable: the node-lifecycle controller lifts the node.kubernetes.io/not-ready taint
    // seconds later (more under load); a pod made before then stays Pending, untolerated taint.
    await waitFor('node untainted', 'kube-controller-manager', async () => (await kubectl(['get', 'node', s.nodeName, '-o', 'jsonpath={.spec.taints}'], { timeoutMs: 10_000 })).trim() === '');
    const nodeReadyMs = Date.now() - t0;
    say(`node ${s.nodeName} Ready, untainted`);
    await writeKubectlWrapper(dir, s, kubeconfigs.admin);

    let stopped: Promise<void> | undefined;
    return {
      dir, kubeconfig: kubeconfigs.admin, nodeName: s.nodeName, nodeIP: s.nodeIP, netns: s.netns, containerdSocket, kube: bins.kube,
      timings: { apiserverReadyMs, nodeReadyMs }, kubectl, exec: execIn,
      stop: () => (stopped ??= teardown(s, { keepDir: !!process.env.KILN_KEEP_TEST_DIRS })),
    };
  } catch (e) {
    const why = e as Error;
    await teardown(s, { keepDir: true }).catch((t: Error) => {
      why.message += `\n(teardown also failed: ${t.message})`;
    });
    why.message = `test cluster in ${dir}: ${why.message}`;
    throw why;
  }
}

/** Stops the cluster whose directory is dir (from another process: scripts/cluster.sh down). */
export async function stopCluster(dir: string): Promise<void> {
  await teardown(await loadState(dir));
}

/** What the cluster in dir left on the host (empty after a clean stop). */
export async function clusterLeftovers(state: ClusterState): Promise<string[]> {
  return leftovers(state);
}

async function writeContainerdFiles(ctdDir: string, network: string): Promise<void> {
  await mkdir(path.join(ctdDir, 'cni'), { recursive: true });
  await writeFile(path.join(ctdDir, 'config.toml'), containerdConfig(ctdDir, PAUSE_IMAGE));
  await writeFile(path.join(ctdDir, 'cni', '10-bridge.conflist'), cniConfig(network, c.POD_SUBNET, path.join(ctdDir, 'cni-ipam')));
}

/** The pause image, made by kiln from a one-file root filesystem and imported into containerd's k8s.io namespace. */
async function importPause(ctdDir: string, socket: string, pauseBin: string): Promise<void> {
  const tar = path.join(ctdDir, 'pause-rootfs.tar');
  await run('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', path.dirname(pauseBin), '-cf', tar, path.basename(pauseBin)]);
  await run(process.execPath, [kilnBin(), '--root', path.join(ctdDir, 'kiln'), '--backend', 'containerd', '--address', socket, '--namespace', 'k8s.io',
    'import', '-c', 'ENTRYPOINT ["/pause"]', tar, PAUSE_IMAGE], { timeout: 60_000 });
}

/** DIR/kubectl: the cluster's kubectl with its kubeconfig, run in the node's network namespace (for a person). */
async function writeKubectlWrapper(dir: string, s: ClusterState, kubeconfigFile: string): Promise<void> {
  const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
  await writeFile(path.join(dir, 'kubectl'), `#!/bin/sh\nexec nsenter --net=${q(netnsPath(s.netns))} -- ${q(s.kube)} kubectl --kubeconfig=${q(kubeconfigFile)} "$@"\n`, { mode: 0o755 });
}
