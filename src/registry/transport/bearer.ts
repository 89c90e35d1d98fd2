/**
 * Bearer tokens from a registry's token service (distribution token spec):
 * GET realm?service=&scope= with Basic credentials (or anonymous), or the
 * OAuth2 refresh-token POST for identity tokens. Tokens are cached per
 * realm, service, user and scope set until shortly before they expire.
 */
import { readAnswer, type Answer } from './answer.js';
import { unauthenticated, unavailable } from '../../errors.js';
import { basicHeader, type AuthConfig } from './auth.js';
import { connectionError } from './neterror.js';
import { formatRegistryErrors, parseErrorBody } from './errors.js';
import { request, type Dispatcher } from './request.js';

export interface TokenRequest {
  realm: string;
  service?: string;
  scopes: string[];
  auth?: AuthConfig;
  /** registry as the user names it, for messages */
  domain: string;
  userAgent: string;
  /** the registry host's connections (the token service may be another host: its agents take any) */
  dispatcher: Dispatcher;
}

interface Cached {
  token: string;
  expiresAt: number;
}

const MARGIN_MS = 10_000;

export class TokenCache {
  private readonly tokens = new Map<string, Cached>();
  private readonly pending = new Map<string, Promise<string>>();

  private key(r: TokenRequest): string {
    return [r.realm, r.service ?? '', r.auth?.username ?? '', r.auth?.identitytoken ? 'id' : '', [...r.scopes].sort().join(' ')].join('|');
  }

  /** A valid token for the request, reusing a cached one. */
  async get(r: TokenRequest): Promise<string> {
    if (r.auth?.registrytoken) return r.auth.registrytoken;
    const key = this.key(r);
    const hit = this.tokens.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.token;
    let p = this.pending.get(key);
    if (!p) {
      p = fetchToken(r).then(
        (c) => {
          this.tokens.set(key, c);
          this.pending.delete(key);
          return c.token;
        },
        (e) => {
          this.pending.delete(key);
          throw e;
        },
      );
      this.pending.set(key, p);
    }
    return p;
  }

  /** Forgets a token the registry refused. */
  invalidate(r: TokenRequest): void {
    this.tokens.delete(this.key(r));
  }
}

/** A token answer bigger than this is cut (and then not JSON): no token service sends one. */
const TOKEN_MAX_BYTES = 1 << 20;

async function fetchToken(r: TokenRequest): Promise<Cached> {
  const url = new URL(r.realm);
  if (r.service) url.searchParams.set('service', r.service);
  const headers: Record<string, string> = { 'user-agent': r.userAgent };
  let res: Answer;
  try {
    if (r.auth?.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r.auth.identitytoken, client_id: 'kiln' });
      if (r.service) form.set('service', r.service);
      if (r.scopes.length) form.set('scope', r.scopes.join(' '));
      headers['content-type'] = 'application/x-www-form-urlencoded';
      res = await readAnswer(await request(url, { method: 'POST', headers, body: form.toString(), dispatcher: r.dispatcher, maxRedirections: 5 }), TOKEN_MAX_BYTES);
    } else {
      for (const s of r.scopes) url.searchParams.append('scope', s);
      if (r.auth?.username) {
        url.searchParams.set('account', r.auth.username);
        headers.authorization = basicHeader(r.auth);
      }
      res = await readAnswer(await request(url, { headers, dispatcher: r.dispatcher, maxRedirections: 5 }), TOKEN_MAX_BYTES);
    }
  } catch (e) {
    throw connectionError(url.host, e);
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    const errs = parseErrorBody(text);
    throw unauthenticated(`${r.domain}: token service ${url.origin}${url.pathname} refused ${r.auth?.username ? `the credentials of ${r.auth.username}` : 'anonymous access'}: ${errs.length ? formatRegistryErrors(errs) : res.status}`, {
      hint: r.auth ? `check the user name and password, then run kiln login ${r.domain}` : `run kiln login ${r.domain}`,
    });
  }
  if (!res.ok) throw unavailable(`${r.domain}: token service ${url.origin}${url.pathname} answered ${res.status}`, { hint: 'try again later' });
  let doc: { token?: string; access_token?: string; expires_in?: number };
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw unavailable(`${r.domain}: token service ${url.origin}${url.pathname} answered something that is not JSON`, { cause: e });
  }
  const token = doc.token ?? doc.access_token;
  if (!token) throw unavailable(`${r.domain}: token service ${url.origin}${url.pathname} answered without a token`);
  const lifetime = (typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60) * 1000;
  return { token, expiresAt: Date.now() + Math.max(1000, lifetime - MARGIN_MS) };
}
