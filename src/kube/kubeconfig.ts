/**
 * Which cluster kiln talks to: the kubeconfig (`-k/--kubeconfig`, else
 * `KUBECONFIG` — several files joined with `:` are merged, as kubectl does —
 * else `~/.kube/config`, else the pod's own service account), the context
 * (`-x/--context`, else the file's current one) and the namespace kiln's
 * agent lives in (`-n/--namespace`, default `kiln`). Never falls back to
 * kubectl's `localhost:8080`: no kubeconfig is one line saying so.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { failedPrecondition, invalidArgument, isKilnError, notFound } from '../errors.js';

import { DEFAULT_NAMESPACE } from './names.js';

export { DEFAULT_NAMESPACE };

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface Kube {
  kc: KubeConfig;
  /** The context's name, as the user would pass it to -x. */
  context: string;
  /** The API server's URL. */
  server: string;
  /** Where kiln's objects live. */
  namespace: string;
  /** The kubeconfig file(s) read, for messages. */
  source: string;
}

function fromFiles(flags: KubeFlags, env: NodeJS.ProcessEnv): { kc: KubeConfig; source: string } {
  const kc = new KubeConfig();
  if (flags.kubeconfig) {
    const file = path.resolve(flags.kubeconfig);
    if (!existsSync(file)) throw notFound(`kubeconfig ${file} does not exist`, { hint: 'pass -k/--kubeconfig with the file kubectl uses' });
    kc.loadFromFile(file);
    return { kc, source: file };
  }
  if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) throw notFound(`no kubeconfig: KUBECONFIG names ${files.join(', ')}, and none exists`, { hint: 'set KUBECONFIG to the file kubectl uses, or pass -k/--kubeconfig' });
    for (const [i, f] of present.entries()) {
      if (i === 0) kc.loadFromFile(f);
      else {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, false);
      }
    }
    return { kc, source: present.join(path.delimiter) };
  }
  const home = path.join(env.HOME || os.homedir(), '.kube', 'config');
  if (existsSync(home)) {
    kc.loadFromFile(home);
    return { kc, source: home };
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) {
    kc.loadFromCluster();
    return { kc, source: 'the pod\'s service account' };
  }
  throw notFound(`no kubeconfig: KUBECONFIG is not set and ${home} does not exist`, { hint: 'pass -k/--kubeconfig FILE or set KUBECONFIG to the file kubectl uses' });
}

/** Loads the kubeconfig and picks the context; fails in one line when there is none to use. */
export function loadKube(flags: KubeFlags = {}, env: NodeJS.ProcessEnv = process.env): Kube {
  let loaded: { kc: KubeConfig; source: string };
  try {
    loaded = fromFiles(flags, env);
  } catch (e) {
    if (isKilnError(e)) throw e;
    throw invalidArgument(`cannot read kubeconfig ${flags.kubeconfig ?? env.KUBECONFIG ?? '~/.kube/config'}: ${(e as Error).message.split('\n')[0]}`, { cause: e, hint: 'check the file with kubectl config view' });
  }
  const { kc, source } = loaded;
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw notFound(`context "${flags.context}" is not in ${source}`, { hint: known.length ? `use one of: ${known.join(', ')}` : 'the kubeconfig has no contexts' });
    }
    kc.setCurrentContext(flags.context);
  }
  const context = kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) throw failedPrecondition(`${source} has no current context`, { hint: 'pass -x/--context NAME, or run kubectl config use-context NAME' });
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw failedPrecondition(`context "${context}" in ${source} names no cluster that the file defines`, { hint: 'check it with kubectl config view' });
  return { kc, context, server: cluster.server, namespace: flags.namespace || DEFAULT_NAMESPACE, source };
}
