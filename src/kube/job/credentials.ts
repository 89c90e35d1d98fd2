/**
 * The registry credentials a build Job gets: the user's own (`kiln login`,
 * Docker's config file, its credential helpers) for the registries the build
 * pushes to, and those only — never the whole config file — as the JSON of a
 * `kubernetes.io/dockerconfigjson` Secret.
 */
import { parseNormalizedNamed } from '../../name/reference.js';
import { credentialKey, type CredentialStore } from '../../registry/credentials.js';

export interface JobCredentials {
  /** `{"auths": {...}}`: what the Secret's `.dockerconfigjson` holds. */
  json: string;
  /** The registry hosts it has credentials for. */
  hosts: string[];
}

/** The registry hosts of the destinations, each once, in order. */
export function destinationHosts(destinations: string[]): string[] {
  return [...new Set(destinations.map((d) => parseNormalizedNamed(d).domain))];
}

export async function jobCredentials(destinations: string[], store: CredentialStore): Promise<JobCredentials> {
  const auths: Record<string, Record<string, string>> = {};
  const hosts: string[] = [];
  for (const host of destinationHosts(destinations)) {
    const a = await store.get(host);
    if (!a) continue;
    const entry: Record<string, string> = {};
    if (a.username !== undefined && a.password !== undefined) entry.auth = Buffer.from(`${a.username}:${a.password}`, 'utf8').toString('base64');
    else if (a.username !== undefined) entry.username = a.username;
    if (a.identitytoken) entry.identitytoken = a.identitytoken;
    if (a.registrytoken) entry.registrytoken = a.registrytoken;
    if (Object.keys(entry).length === 0) continue;
    auths[credentialKey(host)] = entry;
    hosts.push(host);
  }
  return { json: JSON.stringify({ auths }), hosts };
}
