/**
 * Is kiln installed in the current context, as far as this machine knows?
 * (`--backend auto` asks on every command, so this reads the kubeconfig with
 * the YAML parser alone — no Kubernetes client, no network: installed means
 * this machine holds client certificates for the context's cluster and
 * namespace, which `kiln install` wrote. Where `kiln install` never wrote
 * any, the kubeconfig is not read and the YAML parser not loaded.)
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientCertDir, clientCertsRoot } from './client-certs.js';
import type { KubeFlags } from './kubeconfig.js';
import { DEFAULT_NAMESPACE } from './names.js';

interface Named {
  name: string;
  [k: string]: unknown;
}

function files(flags: KubeFlags, env: NodeJS.ProcessEnv): string[] {
  if (flags.kubeconfig) return [path.resolve(flags.kubeconfig)];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(path.delimiter).filter(Boolean);
  return [path.join(env.HOME || os.homedir(), '.kube', 'config')];
}

/** The client certificate directory of the current context when it exists, else undefined (also on any unreadable kubeconfig). */
export async function installedHere(flags: KubeFlags = {}, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const home = env.HOME || os.homedir();
  if (!existsSync(clientCertsRoot(home))) return undefined;
  try {
    const { parse } = await import('../util/yaml-parse.js');
    let current: string | undefined = flags.context;
    const contexts: Named[] = [];
    const clusters: Named[] = [];
    for (const f of files(flags, env)) {
      if (!existsSync(f)) continue;
      const doc = parse(readFileSync(f, 'utf8')) as { 'current-context'?: string; contexts?: Named[]; clusters?: Named[] } | null;
      current ??= doc?.['current-context'] || undefined;
      contexts.push(...(doc?.contexts ?? []));
      clusters.push(...(doc?.clusters ?? []));
    }
    const ctx = contexts.find((c) => c.name === current)?.context as { cluster?: string } | undefined;
    const server = (clusters.find((c) => c.name === ctx?.cluster)?.cluster as { server?: string } | undefined)?.server;
    if (!server) return undefined;
    const dir = clientCertDir(server, flags.namespace || DEFAULT_NAMESPACE, home);
    return existsSync(path.join(dir, 'key.pem')) ? dir : undefined;
  } catch {
    return undefined;
  }
}
