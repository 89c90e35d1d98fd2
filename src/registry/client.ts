/**
 * The registry client: makes Repository objects for (registry, path,
 * actions), sharing pings, TLS agents and tokens between them. Mirrors from
 * registries.yaml are used transparently for pulls.
 */
import { readAnswer } from './transport/answer.js';
import { kilnVersion } from '../version.js';
import { DockerConfigCredentials } from './credentials.js';
import { defaultEndpoint, pingSchemes, resolveEndpoints, type Endpoint } from './endpoints.js';
import { MirroredRepository } from './mirrored.js';
import { loadRegistriesConfig, type RegistriesConfig, type RegistryAuthConfig } from './registries.js';
import { EndpointRepository } from './remote.js';
import type { Action, Repository } from './repository.js';
import { hasSecret, basicHeader, type AuthConfig, type CredentialStore } from './transport/auth.js';
import { TokenCache } from './transport/bearer.js';
import { Dispatchers } from './transport/dispatcher.js';
import { responseError } from './transport/errors.js';
import { connectionError } from './transport/neterror.js';
import { ping, type PingResult } from './transport/ping.js';
import { request } from './transport/request.js';
import type { RetryOptions } from './transport/retry.js';
import { resolveTimeouts, type Timeouts } from './transport/timeouts.js';
import { Transport, type TransportHost } from './transport/transport.js';

export interface RegistryClientOptions {
  /** Default: Docker's config file ($DOCKER_CONFIG or ~/.docker). */
  credentials?: CredentialStore;
  /** Default: the registries.yaml files (loaded on first use). */
  registries?: RegistriesConfig;
  userAgent?: string;
  retry?: RetryOptions;
  /** Overrides the environment and registries.yaml (tests use short ones). */
  timeouts?: Partial<Timeouts>;
}

export interface RegistryClient {
  /** A repository on `domain` (`docker.io`, `127.0.0.1:5000`) at `path`, authorized for `actions`. */
  repository(domain: string, path: string, actions: Action[]): Repository;
  /** Pings `domain` and authenticates with `auth` (Basic or a scope-less token); throws UNAUTHENTICATED when refused. */
  verifyLogin(domain: string, auth: AuthConfig): Promise<void>;
  /** Closes its connections; a request still in flight fails. */
  close(): Promise<void>;
}

function fromRegistriesAuth(a: RegistryAuthConfig | undefined): AuthConfig | undefined {
  if (!a) return undefined;
  if (a.identity_token) return { identitytoken: a.identity_token };
  if (a.auth) {
    const text = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  return a.password ? { username: a.username, password: a.password } : undefined;
}

/** A host's pings are shared by every repository on it (with the same API prefix and schemes). */
const pingKey = (ep: Endpoint, schemes: string[]): string => `${ep.host}|${ep.prefix}|${schemes.join(',')}`;

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const credentials = opts.credentials ?? new DockerConfigCredentials();
  const userAgent = opts.userAgent ?? `kiln/${kilnVersion()}`;
  const retry = opts.retry ?? {};
  const dispatchers = new Dispatchers();
  const tokens = new TokenCache();
  const pings = new Map<string, Promise<PingResult>>();
  let registries: Promise<RegistriesConfig> | undefined = opts.registries ? Promise.resolve(opts.registries) : undefined;
  const config = (): Promise<RegistriesConfig> => (registries ??= loadRegistriesConfig());

  function hostFor(cfg: RegistriesConfig, ep: Endpoint, override?: AuthConfig): TransportHost {
    const hostCfg = cfg.configs?.[ep.host] ?? (ep.mirror ? undefined : cfg.configs?.[ep.domain]);
    const insecure = (cfg.insecure ?? []).includes(ep.host);
    const timeouts = resolveTimeouts({ given: opts.timeouts, host: hostCfg?.timeouts, global: cfg.timeouts });
    const dispatcher = () => dispatchers.get(ep.host, hostCfg?.tls, insecure, timeouts);
    // The host's schemes and ping key, once: every request asks whether the ping is known.
    const schemes = pingSchemes(ep, cfg);
    const key = pingKey(ep, schemes);
    let creds: Promise<AuthConfig | undefined> | undefined;
    return {
      userAgent,
      retry,
      timeouts,
      tokens,
      dispatcher,
      ping() {
        let p = pings.get(key);
        if (!p) {
          // (async: a closed client's dispatcher() throws, and that is this promise's failure, never a throw here)
          p = (async () => ping({ host: ep.host, prefix: ep.prefix, schemes, dispatcher: dispatcher(), userAgent, timeouts }))();
          pings.set(key, p);
          p.catch(() => pings.delete(key)); // a registry that was down may be up next time
        }
        return p;
      },
      firstOrigin: () => `${schemes[0]}://${ep.host}`,
      pingKnown: () => pings.has(key),
      learned(p, over = false) {
        if (over || !pings.has(key)) pings.set(key, Promise.resolve(p));
      },
      credentials() {
        creds ??= (async () => {
          if (override) return override;
          const stored = await credentials.get(ep.mirror ? ep.host : ep.domain);
          return hasSecret(stored) ? stored : fromRegistriesAuth(hostCfg?.auth);
        })();
        return creds;
      },
    };
  }

  return {
    repository(domain, path, actions) {
      const push = actions.includes('push');
      const scope = `repository:%s:${[...new Set(actions)].sort().join(',')}`;
      return new MirroredRepository(domain, path, async () => {
        const cfg = await config();
        return resolveEndpoints(cfg, domain, path, push).map((ep) => {
          const t = new Transport(hostFor(cfg, ep), ep.host, ep.prefix, [scope.replace('%s', ep.path)], domain);
          return new EndpointRepository(t, ep, push ? 'pushing' : 'pulling', retry, path);
        });
      });
    },

    async verifyLogin(domain, auth) {
      const cfg = await config();
      const ep = defaultEndpoint(domain, '');
      const host = hostFor(cfg, ep, auth);
      const p = await host.ping();
      const c = p.challenge;
      if (!c) return; // a registry without auth accepts anyone
      if (c.scheme === 'bearer' && c.params.realm) {
        await tokens.get({ realm: c.params.realm, service: c.params.service, scopes: [], auth, domain, userAgent, dispatcher: host.dispatcher() });
        return;
      }
      let res;
      try {
        res = await readAnswer(await request(`${p.origin}${ep.prefix}/`, { headers: { 'user-agent': userAgent, authorization: basicHeader(auth) }, dispatcher: host.dispatcher(), maxRedirections: 5 }));
      } catch (e) {
        throw connectionError(ep.host, e, { where: `GET ${ep.prefix}/`, timeouts: host.timeouts });
      }
      if (res.status === 200) return;
      throw await responseError(res, { what: `login to ${domain} as ${auth.username ?? ''}`, domain, hadCredentials: true });
    },

    close: () => dispatchers.close(),
  };
}
