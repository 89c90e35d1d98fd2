/**
 * Starts Debian's docker-registry (the CNCF distribution registry) on
 * 127.0.0.1 (or another address, in another network namespace) with a free port and a temp dir, in one of four ways: plain HTTP,
 * htpasswd (Basic), TLS with a test CA, or token auth backed by an in-process
 * token service. Resolves once `/v2/` answers; logs stay in `<dir>/registry.log`.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { freePort } from './ports.js';
import { makeCA, makeClientCert, makeServerCert, makeSigningCert, type CertFiles } from './pki.js';
import { tempDir, removeDir } from './tempdir.js';
import { startTokenServer, type TokenServer } from './tokenserver.js';

const run = promisify(execFile);
export const REGISTRY_BIN = process.env.KILN_TEST_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface StartRegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  tls?: boolean;
  /** Port to try first (default: a free one); a taken port falls back to a free one. */
  port?: number;
  /** with tls: require a client certificate signed by the test CA (mutual TLS). */
  clientCert?: boolean;
  /** user → password; default `{ testuser: 'testpassword' }` when auth is not none. */
  users?: Record<string, string>;
  /** token mode: anonymous callers may pull. */
  anonymousPull?: boolean;
  /** token mode: token lifetime in seconds (default 300). */
  tokenExpiresIn?: number;
  /** token mode: OAuth2 refresh tokens (Docker's identitytoken) → user. */
  refreshTokens?: Record<string, string>;
  /** Listen on this address (default 127.0.0.1), e.g. a test cluster's node IP. */
  listen?: string;
  /** Run inside this network namespace (`/run/netns/NAME`, e.g. a test cluster's), where `listen` is; probed from there too. */
  netns?: string;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` or `https://…` */
  url: string;
  /** The test CA that signed the server certificate (tls only). */
  caFile?: string;
  /** A client certificate and key the registry accepts (clientCert only). */
  clientCertFile?: string;
  clientKeyFile?: string;
  users: Record<string, string>;
  /** The temp dir holding config, storage, certs and registry.log. */
  dir: string;
  logFile: string;
  /** The in-process token service (token mode only). */
  token?: TokenServer;
  stop(): Promise<void>;
}

export const DEFAULT_USERS: Record<string, string> = { testuser: 'testpassword' };

async function writeHtpasswd(file: string, users: Record<string, string>): Promise<void> {
  const lines: string[] = [];
  for (const [u, p] of Object.entries(users)) {
    const { stdout } = await run('htpasswd', ['-Bbn', u, p]);
    lines.push(stdout.trim());
  }
  await writeFile(file, lines.join('\n') + '\n');
}

async function probe(url: string, ca?: Buffer, client?: CertFiles, netns?: string): Promise<number> {
  if (netns) {
    // From inside the namespace: curl's status code (000 when nothing answers).
    const args = [`--net=${netns}`, '--', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', ...(ca ? ['-k'] : []), url];
    const { stdout } = await run('nsenter', args).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '000' }));
    return Number(stdout.trim()) || 0;
  }
  const cert = client ? await readFile(client.certFile) : undefined;
  const key = client ? await readFile(client.keyFile) : undefined;
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { ca, cert, key, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function waitReady(url: string, child: ChildProcess, logFile: string, ca?: Buffer, client?: CertFiles, netns?: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const marker = randomUUID();
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with ${child.exitCode}:\n${await readFile(logFile, 'utf8')}`);
    }
    let status = 0;
    try {
      status = await probe(`${url}/v2/?kiln-probe=${marker}`, ca, client, netns);
    } catch {
      // not listening yet: poll again
    }
    if (status === 200 || status === 401) {
      // the answer must come from our registry (its access log), not from whoever holds the port; the log line
      // comes through a pipe and this process's write stream, which a loaded machine can hold up for more than a second
      for (const logged = Date.now() + 10_000; Date.now() < logged; ) {
        // the log may not exist yet when someone else answered on the port
        if ((await readFile(logFile, 'utf8').catch(() => '')).includes(marker)) return;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      if (child.exitCode === null) throw new Error(`${url} answered but docker-registry did not log it in 10 s; log ${logFile}`);
    }
    if (Date.now() > deadline) throw new Error(`docker-registry at ${url} did not answer /v2/ in 15s; log ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? (auth === 'none' ? {} : DEFAULT_USERS);
  const dir = await tempDir('kiln-registry-');
  const storage = path.join(dir, 'storage');
  await mkdir(storage);
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: false } },
    storage: { filesystem: { rootdirectory: storage }, delete: { enabled: true }, cache: { blobdescriptor: 'inmemory' } },
    http: { addr: '', headers: { 'X-Content-Type-Options': ['nosniff'] } },
  };
  let caFile: string | undefined;
  let client: CertFiles | undefined;
  let token: TokenServer | undefined;
  try {
    if (opts.tls) {
      const ca = await makeCA(dir);
      const server = await makeServerCert(dir, ca);
      caFile = ca.certFile;
      const tls: Record<string, unknown> = { certificate: server.certFile, key: server.keyFile };
      if (opts.clientCert) {
        client = await makeClientCert(dir, ca);
        tls.clientcas = [ca.certFile];
      }
      (config.http as Record<string, unknown>).tls = tls;
    }
    if (auth === 'htpasswd') {
      const file = path.join(dir, 'htpasswd');
      await writeHtpasswd(file, users);
      config.auth = { htpasswd: { realm: 'kiln-test', path: file } };
    } else if (auth === 'token') {
      const signing = await makeSigningCert(dir);
      const service = 'kiln-test-registry';
      const issuer = 'kiln-test-issuer';
      token = await startTokenServer({ ...signing, issuer, service, users, anonymousPull: opts.anonymousPull, refreshTokens: opts.refreshTokens, expiresIn: opts.tokenExpiresIn });
      config.auth = { token: { realm: token.realm, service, issuer, rootcertbundle: signing.certFile } };
    }
  } catch (e) {
    await token?.stop();
    await removeDir(dir);
    throw e;
  }
  const configFile = path.join(dir, 'config.yml');
  const logFile = path.join(dir, 'registry.log');
  const scheme = opts.tls ? 'https' : 'http';
  const ca = caFile ? await readFile(caFile) : undefined;
  // a free port can be taken between freePort() and the registry's bind: try another one then
  for (let attempt = 1; ; attempt++) {
    const host = `${opts.listen ?? '127.0.0.1'}:${attempt === 1 && opts.port ? opts.port : await freePort()}`;
    (config.http as Record<string, unknown>).addr = host;
    await writeFile(configFile, YAML.stringify(config));
    const log = createWriteStream(logFile);
    const argv = opts.netns ? ['nsenter', `--net=${opts.netns}`, '--', REGISTRY_BIN, 'serve', configFile] : [REGISTRY_BIN, 'serve', configFile];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    const url = `${scheme}://${host}`;
    const kill = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      log.end();
    };
    const stop = async (): Promise<void> => {
      await kill();
      await token?.stop();
      if (!process.env.KILN_KEEP_TEST_DIRS) await removeDir(dir);
    };
    try {
      await waitReady(url, child, logFile, ca, client, opts.netns);
    } catch (e) {
      const inUse = /address already in use/.test(await readFile(logFile, 'utf8').catch(() => ''));
      if (inUse && attempt < 3) {
        await kill();
        continue;
      }
      await stop();
      throw e;
    }
    return { host, url, caFile, clientCertFile: client?.certFile, clientKeyFile: client?.keyFile, users, dir, logFile, token, stop };
  }
}
