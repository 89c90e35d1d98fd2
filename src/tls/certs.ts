/**
 * The agent's TLS material, made with the openssl CLI in Docker's file
 * layout: ca.pem / ca-key.pem (the CA), server-cert.pem / server-key.pem (the
 * agent, with the names and addresses clients dial as subjectAltNames), and
 * cert.pem / key.pem (a client). Keys are written mode 0600. A client needs
 * ca.pem, cert.pem and key.pem (KILN_CERT_PATH=DIR).
 */
import { execFile } from 'node:child_process';
import { access, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { failedPrecondition, invalidArgument } from '../errors.js';

const run = promisify(execFile);

/** The agent's side of its mutual TLS, as the server loads it. */
export interface ServerTls {
  /** The CA whose signature a client certificate must carry. */
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export const CERT_FILES = { ca: 'ca.pem', caKey: 'ca-key.pem', serverCert: 'server-cert.pem', serverKey: 'server-key.pem', cert: 'cert.pem', key: 'key.pem' } as const;

export interface CertsResult {
  dir: string;
  files: string[];
  /** The names and addresses the server certificate is valid for. */
  hosts: string[];
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 60_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw failedPrecondition('openssl is not installed', { hint: 'install it (apt-get install openssl), or pass your own certificates' });
    throw failedPrecondition(`openssl ${args[0]} failed: ${(err.stderr ?? err.message).trim().split('\n').pop()}`, { cause: e });
  }
}

const san = (h: string) => (net.isIP(h) ? `IP:${h}` : `DNS:${h}`);
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** The default names in a server certificate: loopback, the machine's hostname, and what was asked. */
export function serverHosts(extra: string[]): string[] {
  const bad = extra.find((h) => !/^[A-Za-z0-9.:*-]+$/.test(h));
  if (bad !== undefined) throw invalidArgument(`--host ${bad}: not a host name or IP address`);
  return [...new Set([...extra, 'localhost', '127.0.0.1', '::1', os.hostname()])];
}

async function signed(dir: string, name: string, cn: string, ext: string, caDays: number): Promise<void> {
  const key = path.join(dir, name === 'server' ? CERT_FILES.serverKey : CERT_FILES.key);
  const cert = path.join(dir, name === 'server' ? CERT_FILES.serverCert : CERT_FILES.cert);
  const csr = path.join(dir, `${name}.csr`);
  const extFile = path.join(dir, `${name}.ext`);
  await writeFile(extFile, ext);
  await openssl(['req', ...KEY, '-subj', `/CN=${cn}`, '-keyout', key, '-out', csr]);
  await chmod(key, 0o600);
  await openssl(['x509', '-req', '-in', csr, '-CA', path.join(dir, CERT_FILES.ca), '-CAkey', path.join(dir, CERT_FILES.caKey), '-CAcreateserial', '-days', String(caDays), '-sha256', '-extfile', extFile, '-out', cert]);
  await rm(csr, { force: true });
  await rm(extFile, { force: true });
}

/** Makes a CA, a server certificate for `hosts` and a client certificate in `dir` (created 0700). */
export async function makeAgentCerts(dir: string, hosts: string[], opts: { days?: number } = {}): Promise<CertsResult> {
  const days = opts.days ?? 825;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, CERT_FILES.caKey);
  await openssl(['req', '-x509', ...KEY, '-days', String(days), '-sha256', '-subj', '/CN=kiln agent CA', '-keyout', caKey, '-out', path.join(dir, CERT_FILES.ca), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await chmod(caKey, 0o600);
  const names = hosts.map(san).join(',');
  await signed(dir, 'server', hosts[0] ?? 'localhost', `subjectAltName=${names}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`, days);
  await signed(dir, 'client', 'kiln client', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n', days);
  await rm(path.join(dir, 'ca.srl'), { force: true });
  return { dir, files: Object.values(CERT_FILES).map((f) => path.join(dir, f)), hosts };
}

const exists = (f: string) => access(f).then(() => true, () => false);

/** The names and addresses in a certificate's subjectAltName (IPv6 as openssl prints it). */
async function certNames(file: string): Promise<string[]> {
  try {
    const { stdout } = await run('openssl', ['x509', '-in', file, '-noout', '-ext', 'subjectAltName'], { timeout: 60_000 });
    return [...stdout.matchAll(/(?:DNS|IP Address):([^,\s]+)/g)].map((m) => m[1]!);
  } catch {
    return [];
  }
}

/**
 * The agent's own certificates under `dir`, made on first use and kept across
 * restarts so clients keep working. When the agent is asked to answer for a
 * name its certificate lacks, only the server certificate is made again (same
 * CA: clients' files stay valid).
 */
export async function ensureAgentCerts(dir: string, hosts: string[], required: string[] = []): Promise<{ made: 'all' | 'server' | 'none'; tls: ServerTls }> {
  let made: 'all' | 'server' | 'none' = 'none';
  const serverCert = path.join(dir, CERT_FILES.serverCert);
  if (!(await exists(path.join(dir, CERT_FILES.serverKey)))) {
    await makeAgentCerts(dir, hosts);
    made = 'all';
  } else {
    const have = await certNames(serverCert);
    if (required.some((h) => !have.includes(h))) {
      await signed(dir, 'server', hosts[0] ?? 'localhost', `subjectAltName=${[...new Set([...hosts, ...have])].map(san).join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n`, 825);
      await rm(path.join(dir, 'ca.srl'), { force: true });
      made = 'server';
    }
  }
  return { made, tls: await readServerTls({ ca: path.join(dir, CERT_FILES.ca), cert: serverCert, key: path.join(dir, CERT_FILES.serverKey) }) };
}

export async function readServerTls(files: { ca: string; cert: string; key: string }): Promise<ServerTls> {
  const read = async (f: string, what: string) => {
    try {
      return await readFile(f);
    } catch (e) {
      throw invalidArgument(`cannot read the agent's ${what} ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e, hint: 'pass --tlscacert/--tlscert/--tlskey, or none to let the agent make its own' });
    }
  };
  return { ca: await read(files.ca, 'CA certificate'), cert: await read(files.cert, 'certificate'), key: await read(files.key, 'key') };
}
