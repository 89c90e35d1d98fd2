/**
 * The client's TLS material for a tcp:// agent, in Docker's layout: the CA
 * that signed the agent's certificate and the client's own certificate and
 * key (`--tlscacert/--tlscert/--tlskey`, or a directory with ca.pem, cert.pem
 * and key.pem given as KILN_CERT_PATH).
 */
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { invalidArgument, isErrno, unauthenticated } from '../errors.js';
import { readSmallSync } from '../util/fsutil.js';

export interface TlsFiles {
  ca: string;
  /** Without cert and key the client offers no certificate (and the agent refuses it). */
  cert?: string;
  key?: string;
}

export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Flags first, then KILN_CERT_PATH's files; undefined when neither names a CA. */
export function tlsFiles(flags: { tlscacert?: string; tlscert?: string; tlskey?: string }, certPath = process.env.KILN_CERT_PATH): TlsFiles | undefined {
  const dir = certPath ? path.resolve(certPath) : undefined;
  const ca = flags.tlscacert ?? (dir && path.join(dir, 'ca.pem'));
  if (!ca) return undefined;
  const cert = flags.tlscert ?? (dir && path.join(dir, 'cert.pem'));
  const key = flags.tlskey ?? (dir && path.join(dir, 'key.pem'));
  return { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** One PEM file, read synchronously (util/fsutil's small files: a few kB, the three read before the channel is made). */
function read(file: string, what: string): Buffer {
  let pem: Buffer | undefined;
  let failure: unknown;
  try {
    pem = readSmallSync(file);
  } catch (e) {
    if (!isErrno(e, 'EACCES')) throw e;
    failure = e;
  }
  if (pem) return pem;
  throw invalidArgument(`cannot read the ${what} ${file}: ${failure ? 'EACCES' : 'ENOENT'}`, { cause: failure, hint: 'pass --tlscacert/--tlscert/--tlskey, or set KILN_CERT_PATH to a directory with ca.pem, cert.pem and key.pem: kiln agent certs makes them' });
}

/**
 * The agent refuses a client certificate out of its validity period, and over
 * TLS the client only sees the connection closed: said here, before dialling,
 * with the dates (a certificate that does not parse is left to the handshake).
 */
function checkValidity(file: string, pem: Buffer, now = Date.now()): void {
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch {
    return;
  }
  const renew = 'make new ones with kiln agent certs (or ask the agent\'s operator) and pass them with --tlscert/--tlskey or KILN_CERT_PATH';
  if (Date.parse(x.validTo) < now) throw unauthenticated(`client certificate ${file} expired on ${x.validTo}: the kiln agent refuses it`, { hint: renew });
  if (Date.parse(x.validFrom) > now) throw unauthenticated(`client certificate ${file} is not valid before ${x.validFrom}: the kiln agent refuses it`, { hint: `check this machine's clock, or ${renew}` });
}

export async function readTls(files: TlsFiles): Promise<TlsMaterial> {
  if (Boolean(files.cert) !== Boolean(files.key)) throw invalidArgument('a client certificate needs its key (and a key its certificate)', { hint: 'pass both --tlscert and --tlskey' });
  const cert = files.cert ? read(files.cert, 'client certificate') : undefined;
  if (cert) checkValidity(files.cert!, cert);
  return {
    ca: read(files.ca, 'CA certificate'),
    ...(cert ? { cert } : {}),
    ...(files.key ? { key: read(files.key, 'client key') } : {}),
  };
}
