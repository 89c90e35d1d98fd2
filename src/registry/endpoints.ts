/**
 * Where requests for a repository go: the registry's API host (docker.io →
 * registry-1.docker.io), mirror endpoints with path rewrites for pulls, and
 * whether plain HTTP is allowed (loopback and insecure registries).
 */
import { invalidArgument } from '../errors.js';
import type { RegistriesConfig } from './registries.js';

export interface Endpoint {
  /** The registry as the user names it (`docker.io`, `127.0.0.1:5000`). */
  domain: string;
  /** host[:port] the requests go to. */
  host: string;
  /** Fixed scheme from a mirror URL; undefined → https, falling back to http where allowed. */
  scheme?: 'https' | 'http';
  /** API prefix, `/v2` unless the mirror URL has a path. */
  prefix: string;
  /** Repository path on this endpoint (after rewrites). */
  path: string;
  mirror: boolean;
}

export const apiHost = (domain: string): string => (domain === 'docker.io' || domain === 'index.docker.io' ? 'registry-1.docker.io' : domain);

/** localhost, 127.0.0.0/8 and [::1], with or without port. */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Plain HTTP may be tried: loopback hosts and hosts listed as insecure. */
export function allowsHttp(host: string, cfg: RegistriesConfig): boolean {
  return isLoopback(host) || (cfg.insecure ?? []).includes(host);
}

/**
 * The schemes to ping, in order. A mirror URL's own; https alone where plain HTTP is not allowed;
 * https then http for a host listed as insecure (Docker's order). A loopback host without TLS
 * settings (Docker and containerd allow both schemes there unconfigured) is asked over plain HTTP
 * first: nothing sits between, and the https attempt a plain registry refuses costs a TLS setup
 * (Node reads and parses the system's CA bundle, about 80 ms); a TLS registry on loopback answers
 * that plain request with a 400, and https is asked next (ping.ts).
 */
export function pingSchemes(ep: Endpoint, cfg: RegistriesConfig): ('https' | 'http')[] {
  if (ep.scheme) return [ep.scheme];
  if (!allowsHttp(ep.host, cfg)) return ['https'];
  const tls = cfg.configs?.[ep.host]?.tls;
  return isLoopback(ep.host) && !tls && !(cfg.insecure ?? []).includes(ep.host) ? ['http', 'https'] : ['https', 'http'];
}

function rewritePath(repoPath: string, rewrite: Record<string, string> | undefined): string {
  for (const [re, replacement] of Object.entries(rewrite ?? {})) {
    const rx = new RegExp(re);
    if (rx.test(repoPath)) return repoPath.replace(rx, replacement);
  }
  return repoPath;
}

function mirrorEndpoint(domain: string, url: string, repoPath: string, rewrite?: Record<string, string>): Endpoint {
  const withScheme = /^[a-z]+:\/\//i.test(url) ? url : `https://${url}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch (e) {
    throw invalidArgument(`registries.yaml: mirror endpoint ${JSON.stringify(url)} for ${domain} is not a URL`, { cause: e });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalidArgument(`registries.yaml: mirror endpoint ${url} must be http or https`);
  const p = u.pathname.replace(/\/+$/, '');
  return {
    domain,
    host: u.host,
    scheme: /^[a-z]+:\/\//i.test(url) ? (u.protocol.slice(0, -1) as 'http' | 'https') : undefined,
    prefix: p === '' ? '/v2' : p,
    path: rewritePath(repoPath, rewrite),
    mirror: true,
  };
}

/** The registry itself, without mirrors. */
export function defaultEndpoint(domain: string, repoPath: string): Endpoint {
  return { domain, host: apiHost(domain), prefix: '/v2', path: repoPath, mirror: false };
}

/**
 * Endpoints to try in order: for pulls the mirrors of `domain` (or of `*`),
 * then the registry itself unless a mirror already is it; for pushes only the registry.
 */
export function resolveEndpoints(cfg: RegistriesConfig, domain: string, repoPath: string, push: boolean): Endpoint[] {
  const def = defaultEndpoint(domain, repoPath);
  if (push) return [def];
  const mirror = cfg.mirrors?.[domain] ?? cfg.mirrors?.['*'];
  const out = (mirror?.endpoint ?? []).map((url) => mirrorEndpoint(domain, url, repoPath, mirror?.rewrite));
  const i = out.findIndex((e) => e.host === def.host && e.prefix === '/v2');
  if (i >= 0) out[i] = { ...out[i], path: repoPath, mirror: false };
  else out.push(def);
  return out;
}
