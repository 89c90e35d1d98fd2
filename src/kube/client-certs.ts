/**
 * The client's half of the agent's mutual TLS: ca.pem, cert.pem and key.pem
 * in `~/.kiln/kube/<server>/<namespace>/` (mode 0700, files 0600), written by
 * `kiln install`, read by the kube backend, removed by `kiln uninstall`. Keyed
 * by the API server's URL, so every context that reaches the same cluster
 * finds them. The CA's key is not kept: `kiln install --force` makes a new set.
 */
import { createHash } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TlsFiles } from '../tls/client.js';

export interface ClientPem {
  ca: string;
  cert: string;
  key: string;
}

/** `~/.kiln/kube`: where every cluster's client certificates are kept. */
export function clientCertsRoot(home = process.env.HOME || os.homedir()): string {
  return path.join(home, '.kiln', 'kube');
}

/** `~/.kiln/kube/127.0.0.1_6443-1a2b3c4d/kiln` for https://127.0.0.1:6443, namespace kiln. */
export function clientCertDir(server: string, namespace: string, home = process.env.HOME || os.homedir()): string {
  const host = server.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_').slice(0, 60);
  const hash = createHash('sha256').update(server).digest('hex').slice(0, 8);
  return path.join(clientCertsRoot(home), `${host}-${hash}`, namespace);
}

export function clientTlsFiles(dir: string): TlsFiles {
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

export async function writeClientCerts(dir: string, pem: ClientPem): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const f = clientTlsFiles(dir);
  await writeFile(f.ca, pem.ca, { mode: 0o600 });
  await writeFile(f.cert!, pem.cert, { mode: 0o600 });
  await writeFile(f.key!, pem.key, { mode: 0o600 });
}

export async function hasClientCerts(dir: string): Promise<boolean> {
  return access(path.join(dir, 'key.pem')).then(() => true, () => false);
}

export async function removeClientCerts(dir: string): Promise<boolean> {
  const had = await hasClientCerts(dir);
  await rm(dir, { recursive: true, force: true });
  return had;
}
