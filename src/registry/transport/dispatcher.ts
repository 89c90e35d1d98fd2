/**
 * Keep-alive agents per registry host (node:http's, and node:https's carrying the host's TLS settings from
 * registries.yaml: CA, client certificate, skip-verify), made on first use: a plain-HTTP registry never loads
 * node:https and its TLS.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { rootCertificates } from 'node:tls';
import { cancelled, invalidArgument } from '../../errors.js';
import { readSmallSync } from '../../util/fsutil.js';
import type { RegistryTLSConfig } from '../registries.js';
import type { Dispatcher } from './request.js';
import type { Timeouts } from './timeouts.js';

function readPem(file: string, what: string, host: string): Buffer {
  const pem = readSmallSync(file);
  if (!pem) throw invalidArgument(`registries.yaml: ${what} ${file} for ${host} does not exist`, { hint: `fix configs."${host}".tls` });
  return pem;
}

/** An idle connection is closed after this long (a registry's own keep-alive hint may make it sooner). */
const IDLE_MS = 4000;

/** One host's agents, each made on its first request. */
class HostDispatcher implements Dispatcher {
  private http: HttpAgent | undefined;
  private https: HttpsAgent | undefined;

  constructor(
    private readonly host: string,
    private readonly tls: AgentOptions,
    readonly timeouts: Timeouts,
    private readonly closed: () => boolean,
  ) {}

  agent(protocol: 'http:' | 'https:'): HttpAgent {
    if (this.closed()) throw cancelled(`request to ${this.host}: the registry client is closed`);
    if (protocol === 'https:') return (this.https ??= new HttpsAgent({ keepAlive: true, timeout: IDLE_MS, ...this.tls }));
    return (this.http ??= new HttpAgent({ keepAlive: true, timeout: IDLE_MS }));
  }

  /** Ends its connections, idle or in use. */
  destroy(): void {
    this.http?.destroy();
    this.https?.destroy();
  }
}

export class Dispatchers {
  private readonly hosts = new Map<string, HostDispatcher>();
  private closed = false;

  /**
   * The agents for `host` with `tls` settings and its connect/headers/read timeouts; `insecure` skips certificate checks.
   * After close, none: a request that had not reached its connection yet (a ping still reading registries.yaml when
   * its push found the image missing) fails rather than open one that would hold the exit.
   */
  get(host: string, tls: RegistryTLSConfig | undefined, insecure: boolean, timeouts: Timeouts): Dispatcher {
    if (this.closed) throw cancelled(`request to ${host}: the registry client is closed`);
    const key = `${host}|${insecure}`;
    let d = this.hosts.get(key);
    if (!d) {
      const options: AgentOptions = {};
      // the registry's CA is added to the system roots, as containerd does
      if (tls?.ca_file) options.ca = [...rootCertificates, readPem(tls.ca_file, 'ca_file', host).toString()];
      if (tls?.cert_file) options.cert = readPem(tls.cert_file, 'cert_file', host);
      if (tls?.key_file) options.key = readPem(tls.key_file, 'key_file', host);
      if (insecure || tls?.insecure_skip_verify) options.rejectUnauthorized = false;
      d = new HostDispatcher(host, options, timeouts, () => this.closed);
      this.hosts.set(key, d);
    }
    return d;
  }

  /**
   * Ends every connection at once. A request still in flight fails: nobody waits for one when a command
   * closes its client (a ping a push started before it found the image missing must not hold the exit
   * until its timeouts, as a graceful close would: cli/hostile-registry.test.ts).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.hosts.values()) d.destroy();
    this.hosts.clear();
  }
}
