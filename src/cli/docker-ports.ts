/**
 * The PORTS column as docker prints it: bindings ordered by container port,
 * host address, host port and protocol; those whose host port equals the
 * container port folded into ranges per address and protocol
 * ("0.0.0.0:8000-8002->8000-8002/tcp"), the others listed after them
 * ("0.0.0.0:8080->80/tcp"); IPv6 addresses in brackets.
 */
import type { PortBinding } from '../runtime/cni.js';

const isIPv4 = (ip: string) => /^\d+\.\d+\.\d+\.\d+$/.test(ip);
const hostPort = (ip: string, port: string) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function ipOrder(a: string, b: string): number {
  if (a === b) return 0;
  const v4a = isIPv4(a);
  const v4b = isIPv4(b);
  if (v4a !== v4b) return v4a ? -1 : 1;
  if (v4a) {
    const pa = a.split('.').map(Number);
    const pb = b.split('.').map(Number);
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a < b ? -1 : 1;
}

export function dockerPorts(ports: PortBinding[]): string {
  const sorted = [...ports].sort(
    (a, b) => a.containerPort - b.containerPort || ipOrder(a.hostIp, b.hostIp) || a.hostPort - b.hostPort || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0),
  );
  const groups = new Map<string, { ip: string; proto: string; first: number; last: number }>();
  const result: string[] = [];
  const mapped: string[] = [];
  const form = (g: { ip: string; proto: string; first: number; last: number }) => {
    const range = g.first === g.last ? String(g.first) : `${g.first}-${g.last}`;
    return `${hostPort(g.ip, range)}->${range}/${g.proto}`;
  };
  for (const p of sorted) {
    if (p.hostPort !== p.containerPort) {
      mapped.push(`${hostPort(p.hostIp, String(p.hostPort))}->${p.containerPort}/${p.protocol}`);
      continue;
    }
    const key = `${p.hostIp}/${p.protocol}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { ip: p.hostIp, proto: p.protocol, first: p.containerPort, last: p.containerPort });
    else if (p.containerPort === g.last + 1) g.last = p.containerPort;
    else {
      result.push(form(g));
      g.first = g.last = p.containerPort;
    }
  }
  for (const g of groups.values()) result.push(form(g));
  return [...result, ...mapped].join(', ');
}
