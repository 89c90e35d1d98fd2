/**
 * The container fixture (./container-fixture.ts) on the kube backend: a
 * one-node cluster of its own (./kube/cluster.ts) with kiln installed,
 * busybox imported into the node's containerd as busybox:test, and kiln run
 * as a user runs it: `--backend kube`, in the node's network namespace (the
 * API server listens there only), so `-p` ports listen there too (`inNode`
 * reaches them). The cleanup fails the test when a kiln pod or a keeper
 * process is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { IMAGE, type ContainerFixture } from './container-fixture.js';
import type { RunResult } from './kiln.js';
import { startCluster, type TestCluster } from './kube/cluster.js';
import { nodeKiln } from './kube/node-kiln.js';
import { busyboxTar } from './runtime-fixture.js';
import { removeDir, tempDir } from './tempdir.js';

export interface KubeContainerFixture extends ContainerFixture {
  cluster: TestCluster;
  /** The argv that runs kiln --backend kube in the node's namespace (for a pty or a kill). */
  argv(args: string[]): string[];
  /** Any command in the node's namespace. */
  inNode(argv: string[]): Promise<RunResult>;
  /** kiln's container pods as kubectl lists them: `NAME PHASE`. */
  pods(): Promise<string[]>;
}

/** kiln's processes still running for this root (keepers of detached containers). */
const keepers = (root: string) => {
  try {
    return execFileSync('pgrep', ['-f', `keeper.*${root}`]).toString().trim();
  } catch {
    return '';
  }
};

export async function kubeContainerFixture(): Promise<KubeContainerFixture> {
  const dir = await tempDir('kiln-kube-ctr-');
  const root = path.join(dir, 'client-root');
  const home = path.join(dir, 'home');
  await mkdir(home);
  const t0 = Date.now();
  const cluster = await startCluster().catch(async (e: Error) => {
    e.message = `kube container fixture: the cluster did not start (${Date.now() - t0} ms): ${e.message}`;
    await removeDir(dir);
    throw e;
  });
  const node = nodeKiln(cluster, dir, { HOME: home });
  const env = { HOME: home };
  const argv = (args: string[]) => node.argv(['--backend', 'kube', ...args]);
  const k = (args: string[], input?: string) => node.run(['--backend', 'kube', ...args], { input });
  const ok = (args: string[], input?: string) => node.ok(['--backend', 'kube', ...args], { input });
  // Each step named in the error with the time it took (a CI log shows nothing else of a failed before hook).
  let step = 'the agent image and busybox imported on the node';
  const t1 = Date.now();
  try {
    await Promise.all([node.onNode(['system', 'agent-image']), node.onNode(['import', busyboxTar(), IMAGE])]);
    step = 'kiln install';
    await ok(['install', '--image-pull-policy', 'Never', ...node.installFlags()]);
  } catch (e) {
    (e as Error).message = `kube container fixture: ${step} failed ${Date.now() - t1} ms after the cluster was up (${t1 - t0} ms): ${(e as Error).message}`;
    await cluster.stop();
    await removeDir(dir);
    throw e;
  }
  const pods = async () =>
    (await cluster.kubectl(['-n', 'kiln', 'get', 'pods', '-l', 'kiln.dev/container=true', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}'])).split('\n').filter(Boolean);
  return {
    root,
    bridge: '',
    subnet: '',
    k,
    ok,
    cluster,
    argv,
    env,
    inNode: node.inNode,
    pods,
    async cleanup() {
      const ids = (await k(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await k(['rm', '-f', ...ids]);
      const left = await pods();
      // A keeper ends once its pod is gone.
      const end = Date.now() + 10_000;
      while (keepers(root) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      const procs = keepers(root);
      await cluster.stop();
      await removeDir(dir);
      assert.deepEqual(left, [], 'kiln pods left behind');
      assert.equal(procs, '', 'keeper processes left behind');
    },
  };
}
