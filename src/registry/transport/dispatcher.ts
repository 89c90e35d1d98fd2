/**
 * undici Agents per registry host, carrying its TLS settings (CA, client
 * certificate, skip-verify) from registries.yaml. kiln uses the `undici`
 * package's own fetch + Agent: Node's bundled undici cannot be imported, and
 * mixing the package's Agent with the global fetch breaks across versions.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { cancelled, invalidArgument, isErrno } from '../../errors.js';
import type { RegistryTLSConfig } from '../registries.js';
import type { Timeouts } from './timeouts.js';

function readPem(file: string, what: string, host: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) {
      throw invalidArgument(`registries.yaml: ${what} ${file} for ${host} does not exist`, { cause: e, hint: `fix configs."${host}".tls` });
    }
    throw e;
  }
}

export class Dispatchers {
  private readonly agents = new Map<string, Agent>();
  private closed = false;

  /**
   * The agent for `host` with `tls` settings and its connect/headers/read timeouts; `insecure` skips certificate checks.
   * After close, none: a request that had not reached its connection yet (a ping still reading registries.yaml when
   * its push found the image missing) fails rather than open one that would hold the exit.
   */
  get(host: string, tls: RegistryTLSConfig | undefined, insecure: boolean, timeouts: Timeouts): Agent {
    if (this.closed) throw cancelled(`request to ${host}: the registry client is closed`);
    const key = `${host}|${insecure}`;
    let a = this.agents.get(key);
    if (!a) {
      const connect: Record<string, unknown> = { timeout: timeouts.connectMs };
      // the registry's CA is added to the system roots, as containerd does
      if (tls?.ca_file) connect.ca = [...rootCertificates, readPem(tls.ca_file, 'ca_file', host).toString()];
      if (tls?.cert_file) connect.cert = readPem(tls.cert_file, 'cert_file', host);
      if (tls?.key_file) connect.key = readPem(tls.key_file, 'key_file', host);
      if (insecure || tls?.insecure_skip_verify) connect.rejectUnauthorized = false;
      // bodyTimeout: a body with no byte at all; the read watchdog also catches one that trickles
      a = new Agent({ connect, keepAliveTimeout: 4000, headersTimeout: timeouts.headersMs, bodyTimeout: timeouts.readMs });
      this.agents.set(key, a);
    }
    return a;
  }

  /**
   * Ends every connection at once. A request still in flight fails: nobody waits for one when a command
   * closes its client (a ping a push started before it found the image missing must not hold the exit
   * until its timeouts, as a graceful close would: cli/hostile-registry.test.ts).
   */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(all.map((a) => a.destroy()));
  }
}
