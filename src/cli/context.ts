/** Global options every command sees, resolved once from flags and environment. */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { EngineKind } from '../engine/engine.js';

export interface GlobalOptions {
  root: string;
  backend: string;
  /** containerd socket (--address, CONTAINERD_ADDRESS); auto-detected when absent. */
  address?: string;
  /** The backend's namespace (-n/--namespace): containerd's (default k8s.io, or CONTAINERD_NAMESPACE); kube: the agent's (default kiln). */
  namespace?: string;
  /** kube: the kubeconfig (-k/--kubeconfig; else KUBECONFIG, ~/.kube/config) and its context (-x/--context). */
  kubeconfig?: string;
  context?: string;
  debug: boolean;
  format?: string;
  /** A kiln agent to use (--host, KILN_HOST): tcp://HOST:PORT or unix:///PATH; implies the remote backend. */
  host?: string;
  /** Client TLS files for a tcp:// agent (--tlscacert/--tlscert/--tlskey). */
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
}

export function defaultRoot(): string {
  if (process.env.KILN_ROOT) return process.env.KILN_ROOT;
  if (process.getuid?.() === 0) return '/var/lib/kiln';
  const data = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'kiln');
}

/** The global options of the program a subcommand belongs to. */
export function globals(cmd: Command): GlobalOptions {
  let top = cmd;
  while (top.parent) top = top.parent;
  const o = top.opts();
  return {
    root: path.resolve(o.root ?? defaultRoot()),
    backend: o.backend ?? 'auto',
    address: o.address ?? process.env.CONTAINERD_ADDRESS,
    namespace: o.namespace,
    kubeconfig: o.kubeconfig,
    context: o.context,
    debug: Boolean(o.debug),
    host: o.host ?? (process.env.KILN_HOST || undefined),
    tlscacert: o.tlscacert,
    tlscert: o.tlscert,
    tlskey: o.tlskey,
  };
}

let closed: EngineKind | undefined;
/**
 * The kind of engine the command closed (set by withEngine, cli/engine.ts): program.ts's OVER_ON_RETURN asks it
 * (a build whose engine was a kiln agent's is over once it is closed).
 */
export function engineClosed(kind: EngineKind): void {
  closed = kind;
}
export const closedEngineKind = (): EngineKind | undefined => closed;
