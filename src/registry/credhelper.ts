/**
 * docker-credential-<name> helpers (the docker-credential-helpers protocol):
 * `get` reads the server URL on stdin and answers {ServerURL, Username, Secret};
 * `store` reads that JSON; `erase` reads the server URL.
 */
import { spawn } from 'node:child_process';
import { notFound, unavailable, isErrno } from '../errors.js';
import type { AuthConfig } from './transport/auth.js';

export interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runHelper(name: string, verb: 'get' | 'store' | 'erase' | 'list', input: string): Promise<HelperResult> {
  const bin = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', (e) => {
      if (isErrno(e, 'ENOENT')) {
        reject(notFound(`credential helper ${bin} not found on PATH`, { cause: e, hint: `install ${bin} or remove it from ~/.docker/config.json` }));
      } else reject(e);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined); // the helper may exit before reading; its exit status tells
    child.stdin.end(input);
  });
}

/** Credentials for `server` from the helper, undefined when it has none. */
export async function helperGet(name: string, server: string): Promise<AuthConfig | undefined> {
  const r = await runHelper(name, 'get', server);
  const out = r.stdout.trim();
  if (r.code !== 0) {
    if (/credentials not found/i.test(out + r.stderr)) return undefined;
    throw unavailable(`credential helper docker-credential-${name} failed for ${server}: ${(out || r.stderr).trim() || `exit ${r.code}`}`, {
      hint: `run docker-credential-${name} get by hand to see why`,
    });
  }
  let doc: { Username?: string; Secret?: string };
  try {
    doc = JSON.parse(out);
  } catch (e) {
    throw unavailable(`credential helper docker-credential-${name} answered something that is not JSON for ${server}`, { cause: e });
  }
  if (!doc.Secret) return undefined;
  // "<token>" as the user name marks an identity token
  if (doc.Username === '<token>') return { identitytoken: doc.Secret };
  return { username: doc.Username, password: doc.Secret };
}

export async function helperStore(name: string, server: string, user: string, secret: string): Promise<void> {
  const r = await runHelper(name, 'store', JSON.stringify({ ServerURL: server, Username: user, Secret: secret }));
  if (r.code !== 0) throw unavailable(`credential helper docker-credential-${name} could not store credentials for ${server}: ${(r.stdout + r.stderr).trim()}`);
}

export async function helperErase(name: string, server: string): Promise<void> {
  const r = await runHelper(name, 'erase', server);
  if (r.code !== 0 && !/not found/i.test(r.stdout + r.stderr)) {
    throw unavailable(`credential helper docker-credential-${name} could not erase credentials for ${server}: ${(r.stdout + r.stderr).trim()}`);
  }
}
