/**
 * Registry credentials a client forwards to the agent for one pull or push:
 * the client's own entry (as `kiln login` wrote it, or its credential helper)
 * for the registry the reference names, in call metadata
 * `kiln-registry-auth` (base64 JSON). Only that registry's entry is sent, and
 * only over mutual TLS or the agent's unix socket; neither side logs it.
 */
import { parseNormalizedNamed } from '../../name/reference.js';
import type { AuthConfig } from '../../registry/credentials.js';

export const AUTH_METADATA = 'kiln-registry-auth';

export interface ForwardedAuth {
  host: string;
  auth: AuthConfig;
}

/** The metadata to send with a call about `reference` ({} when the client has no credentials for its registry). */
export async function forwardedCredentials(reference: string): Promise<Record<string, string>> {
  let host: string;
  try {
    host = parseNormalizedNamed(reference).domain;
  } catch {
    return {}; // the agent reports the bad reference
  }
  const { DockerConfigCredentials } = await import('../../registry/credentials.js');
  let auth;
  try {
    auth = await new DockerConfigCredentials().get(host);
  } catch {
    return {}; // a broken local config or helper must not stop a pull the agent's own credentials allow
  }
  if (!auth) return {};
  const doc: ForwardedAuth = { host, auth };
  return { [AUTH_METADATA]: Buffer.from(JSON.stringify(doc)).toString('base64') };
}

/** The agent's reading of the metadata value; undefined when absent or malformed. */
export function parseForwarded(value: unknown): ForwardedAuth | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const doc = JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as ForwardedAuth;
    if (typeof doc?.host !== 'string' || typeof doc.auth !== 'object' || doc.auth === null) return undefined;
    const a = doc.auth;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const auth: AuthConfig = {};
    for (const k of ['username', 'password', 'identitytoken', 'registrytoken'] as const) {
      const v = str(a[k]);
      if (v !== undefined) auth[k] = v;
    }
    return { host: doc.host, auth };
  } catch {
    return undefined;
  }
}
