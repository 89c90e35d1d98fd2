/**
 * kiln against the harness cluster (./cluster.ts) as its user runs it: the
 * CLI in the node's network namespace (the API server listens there only)
 * with the cluster's kubeconfig and a client root of its own; and kiln on the
 * node itself, straight on the node's containerd (where `system agent-image`
 * and `import` put what the kubelet runs). `installFlags` are the flags that
 * point `kiln install` at the harness's containerd.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { kilnCommand, kilnOk, type RunResult } from '../kiln.js';
import type { TestCluster } from './cluster.js';

export interface NodeKiln {
  /** The argv (nsenter …) of `kiln ARGS` as the client; `kubeconfig` replaces the admin's. */
  argv(args: string[], kubeconfig?: string): string[];
  /** Runs it to its end; `input` goes to its stdin, `env` over the client's environment. */
  run(args: string[], o?: { kubeconfig?: string; env?: Record<string, string>; input?: string }): Promise<RunResult>;
  /** The same, failing with its output unless it exits 0. */
  ok(args: string[], o?: { kubeconfig?: string; env?: Record<string, string>; input?: string }): Promise<RunResult>;
  /** Any command in the node's network namespace. */
  inNode(argv: string[]): Promise<RunResult>;
  /** kiln on the node, on its containerd (namespace k8s.io). */
  onNode(args: string[]): Promise<RunResult>;
  /** `kiln install`'s flags for the harness's containerd, the agent's root under `dir`. */
  installFlags(): string[];
}

/** Runs argv to its end, collecting its output. */
export function collect(argv: string[], env: Record<string, string>, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(input ?? '');
  });
}

/** The client's root is DIR/client-root, the node's DIR/node-root; `env` (HOME at least) is the client's. */
export function nodeKiln(cluster: TestCluster, dir: string, env: Record<string, string>): NodeKiln {
  const ctd = path.join(cluster.dir, 'containerd');
  const inNs = (argv: string[]) => ['nsenter', `--net=/run/netns/${cluster.netns}`, '--', ...argv];
  const argv = (args: string[], kubeconfig = cluster.kubeconfig) => {
    const k = kilnCommand(['--root', path.join(dir, 'client-root'), '-k', kubeconfig, ...args]);
    return inNs([k.file, ...k.args]);
  };
  const run: NodeKiln['run'] = (args, o = {}) => collect(argv(args, o.kubeconfig), { ...env, ...o.env }, o.input);
  return {
    argv,
    run,
    async ok(args, o) {
      const r = await run(args, o);
      if (r.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      return r;
    },
    inNode: (cmd) => collect(inNs(cmd), {}),
    onNode: (args) => kilnOk(['--backend', 'containerd', '--address', path.join(ctd, 'containerd.sock'), '--namespace', 'k8s.io', ...args], { root: path.join(dir, 'node-root') }),
    installFlags: () => ['--containerd-socket', path.join(ctd, 'containerd.sock'), '--containerd-root', path.join(ctd, 'root'), '--containerd-state', path.join(ctd, 'state'), '--agent-root', path.join(dir, 'agent-root')],
  };
}
