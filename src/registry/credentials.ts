/**
 * Credentials from Docker's config file (`$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`): `credHelpers[host]`, then `credsStore`, then
 * `auths` (base64 `auth`, `username`/`password`, `identitytoken`,
 * `registrytoken`). Writes keep every other key of the file, mode 0600.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { invalidArgument, isErrno } from '../errors.js';
import { helperErase, helperGet, helperStore } from './credhelper.js';
import type { AuthConfig, CredentialStore } from './transport/auth.js';

export type { AuthConfig, CredentialStore } from './transport/auth.js';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

export function dockerConfigFile(): string {
  const dir = process.env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  return path.join(dir, 'config.json');
}

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The key Docker uses in `auths` for a registry host. */
export const credentialKey = (host: string): string => (HUB_HOSTS.has(host) ? DOCKER_HUB_KEY : host);

/** `https://index.docker.io/v1/` → `index.docker.io`; `http://h:5000/x` → `h:5000`. */
export function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}

const sameHost = (a: string, b: string): boolean => a === b || (HUB_HOSTS.has(a) && HUB_HOSTS.has(b));

export async function readDockerConfig(file: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return {};
    throw e;
  }
  if (text.trim() === '') return {};
  try {
    const doc = JSON.parse(text) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object');
    return doc as DockerConfigFile;
  } catch (e) {
    throw invalidArgument(`${file}: not a valid Docker config file: ${(e as Error).message}`, { cause: e, hint: 'fix or remove the file' });
  }
}

/** Writes the file atomically with mode 0600, its directory 0700. */
export async function writeDockerConfig(file: string, doc: DockerConfigFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(doc, null, '\t') + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

function decodeEntry(e: AuthEntry, key: string, file: string): AuthConfig {
  const out: AuthConfig = {};
  if (e.auth) {
    const text = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i < 0) throw invalidArgument(`${file}: auths."${key}".auth is not base64 of user:password`, { hint: `run kiln login ${keyHost(key)} again` });
    out.username = text.slice(0, i);
    out.password = text.slice(i + 1);
  }
  if (e.username) out.username = e.username;
  if (e.password) out.password = e.password;
  if (e.identitytoken) out.identitytoken = e.identitytoken;
  if (e.registrytoken) out.registrytoken = e.registrytoken;
  return out;
}

/** Credentials a kiln agent's caller forwarded for one registry, for the calls made inside withForwardedCredentials. */
const forwarded = new AsyncLocalStorage<{ host: string; auth: AuthConfig }>();

/** Runs fn with `auth` answering for `host` ahead of the config file (the agent serving a client's pull or push). */
export function withForwardedCredentials<T>(host: string, auth: AuthConfig, fn: () => Promise<T>): Promise<T> {
  return forwarded.run({ host, auth }, fn);
}

export class DockerConfigCredentials implements CredentialStore {
  /** `loaded`: the file's content read earlier (`kiln executor` reads it, then removes the file); it is not read again. */
  constructor(
    readonly file: string = dockerConfigFile(),
    private readonly loaded?: DockerConfigFile,
  ) {}

  async get(host: string): Promise<AuthConfig | undefined> {
    const f = forwarded.getStore();
    if (f && sameHost(f.host, host) && (f.auth.password || f.auth.identitytoken || f.auth.registrytoken)) return f.auth;
    const doc = this.loaded ?? (await readDockerConfig(this.file));
    const helper = Object.entries(doc.credHelpers ?? {}).find(([k]) => sameHost(keyHost(k), host))?.[1] ?? doc.credsStore;
    if (helper) {
      const found = await helperGet(helper, credentialKey(host));
      if (found) return found;
    }
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      if (!sameHost(keyHost(key), host)) continue;
      const a = decodeEntry(entry, key, this.file);
      if (a.password || a.identitytoken || a.registrytoken) return a;
    }
    return undefined;
  }

  /** Saves user and password for `host` (through the helper when one is configured). */
  async store(host: string, username: string, password: string): Promise<void> {
    const doc = await readDockerConfig(this.file);
    const key = credentialKey(host);
    const helper = doc.credHelpers?.[host] ?? doc.credsStore;
    doc.auths = doc.auths ?? {};
    for (const k of Object.keys(doc.auths)) if (k !== key && sameHost(keyHost(k), host)) delete doc.auths[k];
    if (helper) {
      await helperStore(helper, key, username, password);
      doc.auths[key] = {};
    } else {
      doc.auths[key] = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
    }
    await writeDockerConfig(this.file, doc);
  }

  /** Removes credentials for `host`; false when there were none in the file. */
  async erase(host: string): Promise<boolean> {
    const doc = await readDockerConfig(this.file);
    const keys = Object.keys(doc.auths ?? {}).filter((k) => sameHost(keyHost(k), host));
    const helper = doc.credHelpers?.[host] ?? doc.credsStore;
    if (helper) await helperErase(helper, credentialKey(host));
    if (keys.length === 0) return Boolean(helper);
    for (const k of keys) delete doc.auths![k];
    await writeDockerConfig(this.file, doc);
    return true;
  }
}
