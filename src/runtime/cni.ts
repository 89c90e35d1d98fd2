/**
 * Bridge networking through the standard CNI plugins (Debian's
 * containernetworking-plugins in /usr/lib/cni): a network namespace per
 * container (`ip netns add kiln-<id16>`), `loopback` on lo, then the chain
 * `bridge` (host-local IPAM) → `portmap` (only with `-p`) on eth0, and one
 * MASQUERADE rule per bridge (./masquerade.ts). The ADD result is kept in
 * the container's directory and given back to DEL as prevResult.
 *
 * The bridge name and subnet come from ROOT/network.json
 * ({"bridge": "kiln0", "subnet": "10.209.0.0/16"}) so parallel tests can use
 * their own.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import path from 'node:path';
import { promisify } from 'node:util';
import { failedPrecondition, internal, invalidArgument, isErrno, unavailable } from '../errors.js';
import { writeFileAtomic } from '../util/fsutil.js';
import { ensureMasquerade } from './masquerade.js';
import type { NetworkMode } from './options.js';

/** A published port (`-p`), as `kiln ps` and `kiln port` show it. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
}

/**
 * One container on the bridge: `root` holds network.json and the IPAM
 * leases (shared by a backend's containers), `dir` the container's ADD result.
 */
export interface CniContainer {
  id: string;
  root: string;
  dir: string;
  /** The `-p` flags. */
  publish?: string[];
}

/** A started container's network: its mode, its bridge address and published ports. */
export interface Attached {
  mode: NetworkMode;
  ip?: string;
  ports: PortBinding[];
}

const run = promisify(execFile);
export const CNI_PATH = process.env.KILN_CNI_PATH ?? '/usr/lib/cni';
const CNI_VERSION = '0.4.0';

export interface BridgeConfig {
  bridge: string;
  subnet: string;
}

export async function bridgeConfig(root: string): Promise<BridgeConfig> {
  const defaults: BridgeConfig = { bridge: process.env.KILN_BRIDGE ?? 'kiln0', subnet: process.env.KILN_SUBNET ?? '10.209.0.0/16' };
  try {
    return { ...defaults, ...(JSON.parse(await readFile(path.join(root, 'network.json'), 'utf8')) as Partial<BridgeConfig>) };
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return defaults;
    throw e;
  }
}

export const netnsName = (id: string): string => `kiln-${id.slice(0, 16)}`;
export const netnsPath = (id: string): string => `/run/netns/${netnsName(id)}`;
const resultFile = (c: CniContainer): string => path.join(c.dir, 'network.json');

/** `-p [IP:][HOST:]CONTAINER[/udp]` → bindings (a missing host port takes the container's). */
export function parsePublish(specs: string[] = []): PortBinding[] {
  return specs.map((spec) => {
    const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(spec);
    if (!m) throw invalidArgument(`invalid port publication "${spec}"`, { hint: 'use [IP:]HOST:CONTAINER[/udp], e.g. 127.0.0.1:8080:80' });
    const containerPort = Number(m[3]);
    const hostPort = m[2] ? Number(m[2]) : containerPort;
    if (containerPort < 1 || containerPort > 65535 || hostPort < 1 || hostPort > 65535) {
      throw invalidArgument(`invalid port in "${spec}"`, { hint: 'ports are 1-65535' });
    }
    return { hostIp: m[1] ?? '0.0.0.0', hostPort, containerPort, protocol: (m[4] ?? 'tcp') as 'tcp' | 'udp' };
  });
}

/** Fails with one clear line when a host port is bound by another program. */
async function checkPortFree(p: PortBinding): Promise<void> {
  const inUse = () =>
    failedPrecondition(`cannot publish ${p.hostIp}:${p.hostPort}/${p.protocol}: the port is already in use on this machine`, {
      hint: 'choose another host port with -p',
    });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: unknown) => (isErrno(e, 'EADDRINUSE') ? reject(inUse()) : isErrno(e, 'EACCES') ? resolve() : reject(e));
    if (p.protocol === 'udp') {
      const s = createSocket('udp4');
      s.once('error', fail);
      s.bind(p.hostPort, p.hostIp, () => s.close(() => resolve()));
    } else {
      const s = createServer();
      s.once('error', fail);
      s.listen(p.hostPort, p.hostIp, () => s.close(() => resolve()));
    }
  });
}

/**
 * The chain: `bridge`, then `portmap` only when ports are published (with none
 * it has nothing to do, at start or at exit). Outbound NAT is one rule per
 * bridge (./masquerade.ts), not the bridge plugin's chain per container
 * (`ipMasq`, still honoured at exit for a container an older kiln started).
 */
function networkList(cfg: BridgeConfig, root: string, opts: { ports: boolean; ipMasq: boolean }) {
  return {
    cniVersion: CNI_VERSION,
    name: `kiln-${cfg.bridge}`,
    plugins: [
      {
        type: 'bridge',
        bridge: cfg.bridge,
        isGateway: true,
        ipMasq: opts.ipMasq,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: cfg.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: path.join(root, 'network', 'ipam') },
      },
      ...(opts.ports ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
    ],
  };
}

/** Runs one plugin; resolves to its parsed result (ADD) or undefined. */
function invoke(command: 'ADD' | 'DEL', plugin: Record<string, unknown>, env: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = String(plugin.type);
    const child = spawn(path.join(CNI_PATH, type), [], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_COMMAND: command, CNI_PATH, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) =>
      reject(isErrno(e, 'ENOENT') ? unavailable(`CNI plugin ${type} not found in ${CNI_PATH}`, { hint: 'apt-get install containernetworking-plugins, or use --network host|none' }) : e),
    );
    child.on('close', (code) => {
      if (code === 0) return resolve(out.trim() === '' ? undefined : JSON.parse(out));
      let msg = err.trim() || out.trim();
      try {
        const j = JSON.parse(out) as { msg?: string; details?: string };
        msg = [j.msg, j.details].filter(Boolean).join(': ');
      } catch {
        // not JSON: keep the raw text
      }
      reject(internal(`CNI ${type} ${command} failed: ${msg}`, { hint: 'check the bridge settings in ROOT/network.json, or use --network host|none' }));
    });
    child.stdin.end(JSON.stringify(plugin));
  });
}

async function runChain(command: 'ADD' | 'DEL', rec: { id: string; ports: PortBinding[]; ipMasq?: boolean }, cfg: BridgeConfig, root: string, prev?: unknown): Promise<unknown> {
  const list = networkList(cfg, root, { ports: rec.ports.length > 0, ipMasq: rec.ipMasq ?? false });
  const env = { CNI_CONTAINERID: rec.id, CNI_NETNS: netnsPath(rec.id), CNI_IFNAME: 'eth0' };
  const portMappings = rec.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, hostIP: p.hostIp === '0.0.0.0' ? '' : p.hostIp }));
  const plugins = list.plugins.map((p) => ({
    cniVersion: list.cniVersion,
    name: list.name,
    ...p,
    ...('capabilities' in p ? { runtimeConfig: { portMappings } } : {}),
  }));
  const chain = async () => {
    let result = prev;
    for (const plugin of command === 'ADD' ? plugins : [...plugins].reverse()) {
      const out = await invoke(command, { ...plugin, ...(result !== undefined ? { prevResult: result } : {}) }, env);
      if (command === 'ADD') result = out;
    }
    return result;
  };
  if (command === 'DEL') return chain();
  // lo and eth0 are independent: the loopback plugin runs beside the chain.
  const lo = { cniVersion: CNI_VERSION, name: 'kiln-lo', type: 'loopback' };
  const [result, loUp] = await Promise.allSettled([chain(), invoke('ADD', lo, { ...env, CNI_IFNAME: 'lo' })]);
  if (result.status === 'rejected') throw result.reason;
  if (loUp.status === 'rejected') throw loUp.reason;
  return result.value;
}

export async function bridgeUp(rec: CniContainer): Promise<Attached> {
  const cfg = await bridgeConfig(rec.root);
  const ports = parsePublish(rec.publish);
  for (const p of ports) await checkPortFree(p);
  await run('ip', ['netns', 'add', netnsName(rec.id)]).catch((e: Error & { stderr?: string }) => {
    throw internal(`cannot create network namespace ${netnsName(rec.id)}: ${e.stderr?.trim() ?? e.message}`, { cause: e });
  });
  try {
    // Both settle before a failure is thrown, so the cleanup below never races a plugin still running.
    const [chain, masq] = await Promise.allSettled([runChain('ADD', { id: rec.id, ports }, cfg, rec.root), ensureMasquerade(cfg, path.join(rec.root, 'network'))]);
    if (chain.status === 'rejected') throw chain.reason;
    if (masq.status === 'rejected') throw masq.reason;
    const result = chain.value as { ips?: { address: string }[] };
    await writeFileAtomic(resultFile(rec), JSON.stringify({ cfg, ports, ipMasq: false, result }) + '\n');
    const ip = result.ips?.[0]?.address.split('/')[0];
    return { mode: { netnsPath: netnsPath(rec.id) }, ports, ...(ip ? { ip } : {}) };
  } catch (e) {
    await bridgeDown(rec, ports).catch(() => undefined);
    throw e;
  }
}

/** CNI DEL with the saved result (iptables rules, IPAM lease, veth), then the namespace goes. */
export async function bridgeDown(rec: CniContainer, ports: PortBinding[] = []): Promise<void> {
  let saved: { cfg: BridgeConfig; ports: PortBinding[]; ipMasq?: boolean; result: unknown } | undefined;
  try {
    saved = JSON.parse(await readFile(resultFile(rec), 'utf8')) as typeof saved;
  } catch (e) {
    if (!isErrno(e, 'ENOENT')) throw e;
  }
  const cfg = saved?.cfg ?? (await bridgeConfig(rec.root));
  const hasNetns = await readFile(`/proc/self/mountinfo`, 'utf8').then((m) => m.includes(netnsPath(rec.id)));
  if (saved !== undefined || hasNetns) {
    // A result saved without `ipMasq` is an older kiln's, whose bridge plugin made the per-container chain.
    await runChain('DEL', { id: rec.id, ports: saved?.ports ?? ports, ipMasq: saved ? (saved.ipMasq ?? true) : false }, cfg, rec.root, saved?.result);
  }
  if (hasNetns) {
    await run('ip', ['netns', 'delete', netnsName(rec.id)]).catch((e: Error & { stderr?: string }) => {
      if (!/No such file/.test(e.stderr ?? '')) throw internal(`cannot delete network namespace ${netnsName(rec.id)}: ${e.stderr?.trim() ?? e.message}`, { cause: e });
    });
  }
  await rm(resultFile(rec), { force: true });
}
