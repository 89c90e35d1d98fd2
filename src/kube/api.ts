/** The API groups kiln uses, for one Kube target, and the first call that proves the server answers. */
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api, VersionApi } from '@kubernetes/client-node';
import { unavailable } from '../errors.js';
import { call, where } from './errors.js';
import type { Kube } from './kubeconfig.js';

export interface Apis {
  core: CoreV1Api;
  apps: AppsV1Api;
  rbac: RbacAuthorizationV1Api;
}

export function apis(k: Kube): Apis {
  return { core: k.kc.makeApiClient(CoreV1Api), apps: k.kc.makeApiClient(AppsV1Api), rbac: k.kc.makeApiClient(RbacAuthorizationV1Api) };
}

/** The server's version (`v1.31.2`); an unreachable or silent server fails in one line within `ms`. */
export async function serverVersion(k: Kube, ms = 15_000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`the Kubernetes API server of ${where(k)} did not answer in ${ms / 1000} s`, { hint: 'is the cluster running? kubectl get nodes should work; pick another context with -x' })), ms);
  });
  try {
    const v = await Promise.race([call(k, 'get the server version', () => k.kc.makeApiClient(VersionApi).getCode()), silent]);
    return v.gitVersion;
  } finally {
    clearTimeout(timer);
  }
}
