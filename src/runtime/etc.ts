/**
 * The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf, written
 * in the container's directory and bound over the image's files, as Docker does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidArgument, isErrno } from '../errors.js';
import type { NetworkMode } from './options.js';
import type { Mount } from './runtime-spec.js';

export interface EtcOptions {
  hostname: string;
  network: NetworkMode;
  /** The container's address on its network, when it has one (CNI). */
  ip?: string;
  /** `--add-host name:ip`. */
  extraHosts?: string[];
  /** `--dns`: replaces the host's nameservers. */
  dns?: string[];
  /** The host's files (defaults /etc/resolv.conf and /etc/hosts). */
  hostResolvConf?: string;
  hostHosts?: string;
}

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];
/** Docker's fallback when no usable nameserver is left. */
const FALLBACK_DNS = ['8.8.8.8', '8.8.4.4'];

const isLoopback = (ip: string): boolean => /^127\./.test(ip) || ip === '::1' || ip === '0:0:0:0:0:0:0:1';

function parseExtraHost(spec: string): string {
  const i = spec.indexOf(':');
  if (i <= 0 || i === spec.length - 1) {
    throw invalidArgument(`invalid --add-host "${spec}"`, { hint: 'use NAME:IP, e.g. db:10.0.0.5' });
  }
  return `${spec.slice(i + 1)}\t${spec.slice(0, i)}`;
}

/** Pure: the container's /etc/hosts (the host's own one for host networking, plus --add-host). */
export function hostsFile(opts: EtcOptions, hostHosts = ''): string {
  const lines = opts.network === 'host' ? hostHosts.replace(/\n$/, '').split('\n') : [...DEFAULT_HOSTS];
  for (const h of opts.extraHosts ?? []) lines.push(parseExtraHost(h));
  if (opts.ip !== undefined && opts.network !== 'host') lines.push(`${opts.ip}\t${opts.hostname}`);
  return lines.join('\n') + '\n';
}

/** Pure: the host's resolv.conf, without loopback nameservers unless the container shares the host's network. */
export function resolvConf(hostText: string, network: NetworkMode, dns?: string[]): string {
  const out: string[] = [];
  let servers = 0;
  for (const line of hostText.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      if (dns !== undefined || (network !== 'host' && isLoopback(m[1]!))) continue;
      servers++;
    }
    if (line.trim() !== '') out.push(line);
  }
  const add = dns ?? (servers === 0 ? FALLBACK_DNS : []);
  for (const ns of add) out.push(`nameserver ${ns}`);
  return out.join('\n') + '\n';
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return '';
    throw e;
  }
}

/** Writes the three files into `dir` and returns the bind mounts for the runtime spec. */
export async function writeEtcFiles(dir: string, opts: EtcOptions): Promise<Mount[]> {
  const files: Record<string, string> = {
    hosts: hostsFile(opts, await readOptional(opts.hostHosts ?? '/etc/hosts')),
    hostname: `${opts.hostname}\n`,
    'resolv.conf': resolvConf(await readOptional(opts.hostResolvConf ?? '/etc/resolv.conf'), opts.network, opts.dns),
  };
  const mounts: Mount[] = [];
  for (const [name, text] of Object.entries(files)) {
    const source = join(dir, name);
    await writeFile(source, text, { mode: 0o644 });
    mounts.push({ destination: `/etc/${name}`, type: 'bind', source, options: ['rbind', 'rprivate'] });
  }
  return mounts;
}
