/**
 * k3s `registries.yaml`: mirrors (endpoints, rewrites) and per-host configs
 * (TLS, auth). Read from /etc/rancher/k3s/registries.yaml then
 * ~/.config/kiln/registries.yaml (later files win per host), or only from
 * $KILN_REGISTRIES_CONFIG when set.
 */
import os from 'node:os';
import path from 'node:path';
import { invalidArgument } from '../errors.js';
import { parseDuration, type TimeoutsConfig } from './transport/timeouts.js';
import { readSmallSync } from '../util/fsutil.js';

export interface RegistryTLSConfig {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  insecure_skip_verify?: boolean;
}

export interface RegistryAuthConfig {
  username?: string;
  password?: string;
  /** base64 of `user:password` */
  auth?: string;
  identity_token?: string;
}

export interface MirrorConfig {
  /** Endpoint URLs tried in order before the registry itself (`https://host:port[/path]`). */
  endpoint?: string[];
  /** Regular expression → replacement applied to the repository path on mirror endpoints. */
  rewrite?: Record<string, string>;
}

export interface HostConfig {
  tls?: RegistryTLSConfig;
  auth?: RegistryAuthConfig;
  /** kiln extension: connect, headers and read timeouts for this host (`30s`, `500ms`). */
  timeouts?: TimeoutsConfig;
}

export interface RegistriesConfig {
  mirrors?: Record<string, MirrorConfig>;
  configs?: Record<string, HostConfig>;
  /** kiln extension (Docker's insecure-registries): hosts reached over plain HTTP or unverified TLS. */
  insecure?: string[];
  /** kiln extension: connect, headers and read timeouts for every registry (`30s`, `500ms`). */
  timeouts?: TimeoutsConfig;
}

function parseTimeouts(v: unknown, file: string, where: string): TimeoutsConfig | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) throw invalidArgument(`${file}: ${where} must be a mapping of connect, headers, read → duration`);
  const out: TimeoutsConfig = {};
  for (const [k, d] of Object.entries(v)) {
    if (k !== 'connect' && k !== 'headers' && k !== 'read') throw invalidArgument(`${file}: ${where}.${k}: unknown timeout`, { hint: 'use connect, headers or read' });
    if (typeof d !== 'string' && typeof d !== 'number') throw invalidArgument(`${file}: ${where}.${k} must be a duration like 30s`);
    parseDuration(d, `${file}: ${where}.${k}`);
    out[k] = d;
  }
  return out;
}

export function defaultRegistriesFiles(): string[] {
  if (process.env.KILN_REGISTRIES_CONFIG) return [process.env.KILN_REGISTRIES_CONFIG];
  return ['/etc/rancher/k3s/registries.yaml', path.join(os.homedir(), '.config', 'kiln', 'registries.yaml')];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one registries.yaml text; `file` names it in errors. The YAML parser loads only here: most machines have no such file. */
export async function parseRegistriesConfig(text: string, file: string): Promise<RegistriesConfig> {
  const YAML = await import('../util/yaml-parse.js');
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw invalidArgument(`${file}: not valid YAML: ${(e as Error).message}`, { cause: e, hint: 'fix the file or remove it' });
  }
  if (doc === null || doc === undefined) return {};
  if (!isObject(doc)) throw invalidArgument(`${file}: expected a mapping with mirrors and configs`, { hint: 'see the k3s registries.yaml format' });
  const out: RegistriesConfig = {};
  if (doc.mirrors !== undefined) {
    if (!isObject(doc.mirrors)) throw invalidArgument(`${file}: mirrors must be a mapping of host → {endpoint, rewrite}`);
    out.mirrors = {};
    for (const [host, m] of Object.entries(doc.mirrors)) {
      if (!isObject(m)) throw invalidArgument(`${file}: mirrors.${host} must be a mapping`);
      if (m.endpoint !== undefined && (!Array.isArray(m.endpoint) || m.endpoint.some((x) => typeof x !== 'string'))) {
        throw invalidArgument(`${file}: mirrors.${host}.endpoint must be a list of URLs`);
      }
      for (const re of Object.keys(isObject(m.rewrite) ? m.rewrite : {})) {
        try {
          new RegExp(re);
        } catch (e) {
          throw invalidArgument(`${file}: mirrors.${host}.rewrite: bad regular expression ${JSON.stringify(re)}`, { cause: e });
        }
      }
      out.mirrors[host] = { endpoint: m.endpoint as string[] | undefined, rewrite: isObject(m.rewrite) ? (m.rewrite as Record<string, string>) : undefined };
    }
  }
  if (doc.configs !== undefined) {
    if (!isObject(doc.configs)) throw invalidArgument(`${file}: configs must be a mapping of host → {tls, auth}`);
    out.configs = {};
    for (const [host, c] of Object.entries(doc.configs)) {
      if (!isObject(c)) throw invalidArgument(`${file}: configs.${host} must be a mapping`);
      out.configs[host] = { tls: isObject(c.tls) ? (c.tls as RegistryTLSConfig) : undefined, auth: isObject(c.auth) ? (c.auth as RegistryAuthConfig) : undefined };
      const timeouts = parseTimeouts(c.timeouts, file, `configs.${host}.timeouts`);
      if (timeouts) out.configs[host].timeouts = timeouts;
    }
  }
  if (Array.isArray(doc.insecure)) out.insecure = doc.insecure.map(String);
  const timeouts = parseTimeouts(doc.timeouts, file, 'timeouts');
  if (timeouts) out.timeouts = timeouts;
  return out;
}

/** Merges configs; later ones win per host. */
export function mergeRegistriesConfigs(...cfgs: RegistriesConfig[]): RegistriesConfig {
  const out: RegistriesConfig = { mirrors: {}, configs: {}, insecure: [] };
  for (const c of cfgs) {
    Object.assign(out.mirrors!, c.mirrors);
    Object.assign(out.configs!, c.configs);
    out.insecure!.push(...(c.insecure ?? []));
    if (c.timeouts) out.timeouts = { ...out.timeouts, ...c.timeouts };
  }
  return out;
}

/** Reads and merges the registries.yaml files that exist (missing files are fine). */
export async function loadRegistriesConfig(files: string[] = defaultRegistriesFiles()): Promise<RegistriesConfig> {
  // Read synchronously (util/fsutil's small files): a push's or pull's ping waits for them, and a missing file
  // (most machines: both) is one open() of microseconds. Merged in the files' order.
  const texts = files.map((file) => readSmallSync(file)?.toString('utf8'));
  const cfgs: RegistriesConfig[] = [];
  for (const [i, text] of texts.entries()) if (text !== undefined) cfgs.push(await parseRegistriesConfig(text, files[i]!));
  return mergeRegistriesConfigs(...cfgs);
}
