/**
 * A throwaway PKI made with openssl: a CA, and certificates it signs (server
 * certificates with 127.0.0.1/localhost SANs, or a token-signing certificate).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

/** Creates `<name>.crt`/`<name>.key`, a self-signed CA (RSA 2048, 1 day). */
export async function makeCA(dir: string, name = 'ca'): Promise<CertFiles> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-sha256',
    '-subj', `/CN=kiln test ${name}`, '-keyout', keyFile, '-out', certFile,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
  return { certFile, keyFile };
}

/** A server certificate for 127.0.0.1, ::1 and localhost signed by the CA. */
export function makeServerCert(dir: string, ca: CertFiles, name = 'server'): Promise<CertFiles> {
  return signedCert(dir, ca, name, '/CN=localhost', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
}

/** A client certificate (mutual TLS) signed by the CA. */
export function makeClientCert(dir: string, ca: CertFiles, name = 'client'): Promise<CertFiles> {
  return signedCert(dir, ca, name, '/CN=kiln test client', 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
}

async function signedCert(dir: string, ca: CertFiles, name: string, subject: string, extensions: string): Promise<CertFiles> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', keyFile, '-out', csr]);
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial',
    '-days', '1', '-sha256', '-extfile', ext, '-out', certFile,
  ]);
  return { certFile, keyFile };
}

/** A self-signed certificate (no CA flag needed) used to sign registry tokens. */
export async function makeSigningCert(dir: string, name = 'token'): Promise<CertFiles> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-sha256',
    '-subj', '/CN=kiln test token issuer', '-keyout', keyFile, '-out', certFile,
  ]);
  return { certFile, keyFile };
}
