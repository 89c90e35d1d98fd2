/**
 * A small token service for the registry's `auth: token` mode (the
 * distribution token spec): GET /token?service=&scope=… with optional Basic
 * credentials answers a JWT signed RS256 by a key whose certificate is the
 * registry's rootcertbundle (sent as the x5c header). Users get every action
 * they ask for; anonymous callers get `pull` only when allowed.
 */
import { createPrivateKey, createSign, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenServerOptions {
  certFile: string;
  keyFile: string;
  issuer: string;
  service: string;
  users: Record<string, string>;
  anonymousPull?: boolean;
  /** OAuth2 refresh tokens (identity tokens) → user, accepted by POST /token. */
  refreshTokens?: Record<string, string>;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

export interface TokenServer {
  realm: string;
  /** Number of token requests served so far (successful or not). */
  readonly requests: number;
  /** The scopes of each request, in order (for assertions on token reuse). */
  readonly log: { user: string; scopes: string[] }[];
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

function parseScope(scope: string): Access | undefined {
  const parts = scope.split(':');
  if (parts.length < 3) return undefined;
  const actions = parts.pop()!.split(',').filter(Boolean);
  const type = parts.shift()!;
  return { type, name: parts.join(':'), actions };
}

function sign(key: KeyObject, x5c: string, claims: object): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [x5c] }));
  const payload = b64url(JSON.stringify(claims));
  const signer = createSign('SHA256');
  signer.update(`${header}.${payload}`);
  return `${header}.${payload}.${b64url(signer.sign(key))}`;
}

function checkBasic(header: string | undefined, users: Record<string, string>): string | null | undefined {
  if (!header) return undefined; // anonymous
  const m = /^Basic\s+(.+)$/i.exec(header);
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  const user = text.slice(0, i);
  return i > 0 && users[user] !== undefined && users[user] === text.slice(i + 1) ? user : null;
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const key = createPrivateKey(await readFile(opts.keyFile));
  const x5c = new X509Certificate(await readFile(opts.certFile)).raw.toString('base64');
  const log: { user: string; scopes: string[] }[] = [];
  let requests = 0;

  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => answer(req, res, new URLSearchParams(body)));
      return;
    }
    answer(req, res);
  });
  const answer = (req: http.IncomingMessage, res: http.ServerResponse, form?: URLSearchParams): void => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    let user: string | null | undefined;
    let scopes: string[];
    if (form) {
      // OAuth2 refresh-token grant
      const refresh = form.get('grant_type') === 'refresh_token' ? form.get('refresh_token') : null;
      user = refresh !== null && opts.refreshTokens?.[refresh] !== undefined ? opts.refreshTokens[refresh] : null;
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    } else {
      user = checkBasic(req.headers.authorization, opts.users);
      scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    }
    log.push({ user: user ?? '', scopes });
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (user === null) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
      return;
    }
    const access: Access[] = [];
    for (const s of scopes) {
      const a = parseScope(s);
      if (!a || a.type !== 'repository') continue;
      const actions = user ? a.actions : opts.anonymousPull ? a.actions.filter((x) => x === 'pull') : [];
      if (actions.length) access.push({ ...a, actions });
    }
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    const token = sign(key, x5c, {
      iss: opts.issuer,
      sub: user ?? '',
      aud: opts.service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() }));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    get requests() {
      return requests;
    },
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
