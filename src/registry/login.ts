/**
 * login: verify credentials against the registry (ping + Basic or token),
 * then store them in Docker's config file (or its credential helper).
 * logout: remove them.
 */
import { invalidArgument } from '../errors.js';
import { createRegistryClient, type RegistryClientOptions } from './client.js';
import { DockerConfigCredentials } from './credentials.js';

export interface LoginResult {
  /** The registry host as stored (`docker.io`, `127.0.0.1:5000`). */
  server: string;
  /** The config file written. */
  configFile: string;
}

/** `https://127.0.0.1:5000/v2/` → `127.0.0.1:5000`; empty → docker.io. */
export function normalizeServer(server: string | undefined): string {
  const s = (server ?? '').trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (s === '' || s === 'index.docker.io' || s === 'registry-1.docker.io') return 'docker.io';
  return s;
}

export async function login(
  server: string | undefined,
  username: string,
  password: string,
  opts: RegistryClientOptions & { configFile?: string } = {},
): Promise<LoginResult> {
  const host = normalizeServer(server);
  if (!username) throw invalidArgument(`login to ${host}: a user name is needed`, { hint: 'pass -u USER' });
  if (!password) throw invalidArgument(`login to ${host}: a password is needed`, { hint: 'pass --password-stdin and pipe the password in' });
  const client = createRegistryClient(opts);
  try {
    await client.verifyLogin(host, { username, password });
  } finally {
    await client.close();
  }
  const store = new DockerConfigCredentials(opts.configFile);
  await store.store(host, username, password);
  return { server: host, configFile: store.file };
}

/** Removes stored credentials; false when there were none. */
export async function logout(server: string | undefined, opts: { configFile?: string } = {}): Promise<{ server: string; removed: boolean }> {
  const host = normalizeServer(server);
  const removed = await new DockerConfigCredentials(opts.configFile).erase(host);
  return { server: host, removed };
}
