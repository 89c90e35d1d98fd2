/**
 * Agent addresses, as `--host` (client) and `--listen` (agent) take them:
 * `tcp://HOST:PORT` (mutual TLS, always) or `unix:///PATH` (no TLS; the
 * socket's mode guards it).
 */
import path from 'node:path';
import { invalidArgument } from '../../errors.js';

export type AgentAddress = { kind: 'tcp'; host: string; port: number; url: string } | { kind: 'unix'; path: string; url: string };

/** The default TCP port (Docker's TLS port). */
export const DEFAULT_PORT = 2376;

export function parseAddress(text: string, flag = '--host'): AgentAddress {
  const m = /^([a-z]+):\/\/(.*)$/.exec(text);
  const scheme = m?.[1];
  const rest = m?.[2] ?? '';
  if (scheme === 'unix') {
    if (!rest.startsWith('/')) throw invalidArgument(`${flag} ${text}: a unix socket needs an absolute path`, { hint: 'write unix:///run/kiln/agent.sock' });
    const p = path.normalize(rest);
    return { kind: 'unix', path: p, url: `unix://${p}` };
  }
  if (scheme === 'tcp') {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+)(?::(\d+))?\/?$/.exec(rest);
    const port = hp?.[2] === undefined ? DEFAULT_PORT : Number(hp[2]);
    if (!hp || port > 65535) throw invalidArgument(`${flag} ${text}: not HOST:PORT`, { hint: 'write tcp://HOST:PORT, e.g. tcp://10.0.0.5:2376' });
    const host = hp[1]!.replace(/^\[|\]$/g, '');
    return { kind: 'tcp', host, port, url: `tcp://${hp[1]}:${port}` };
  }
  throw invalidArgument(`${flag} ${text}: unknown address`, { hint: 'use tcp://HOST:PORT or unix:///PATH' });
}

/**
 * The target string grpc-js dials. An IP address gets grpc-js's ipv4:/ipv6: scheme: its DNS resolver
 * (and with it node's c-ares channel, which reads resolv.conf at every start) is then never made.
 */
export function grpcTarget(a: AgentAddress): string {
  if (a.kind === 'unix') return `unix://${a.path}`;
  if (a.host.includes(':')) return `ipv6:[${a.host}]:${a.port}`;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(a.host) ? `ipv4:${a.host}:${a.port}` : `${a.host}:${a.port}`;
}
