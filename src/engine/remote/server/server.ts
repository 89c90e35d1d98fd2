/**
 * The agent's gRPC server: the Engine API (handlers.ts) over the engine the
 * agent serves, on any number of listeners — unix sockets (no TLS; mode 0660,
 * so only the agent's user and group may connect) and TCP ports (mutual TLS
 * only: a client must present a certificate the agent's CA signed).
 */
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { failedPrecondition, invalidArgument, isErrno } from '../../../errors.js';
import type { Engine } from '../../engine.js';
import { grpcTarget, type AgentAddress } from '../address.js';
import { CHANNEL_OPTIONS, engineService } from '../proto.js';
import { methodTable } from './handlers.js';

import type { ServerTls } from '../../../tls/certs.js';
export type { ServerTls };

export interface AgentServerOptions {
  engine: Engine;
  listen: AgentAddress[];
  /** Required when a listener is tcp://. */
  tls?: ServerTls;
  /** `<root>/agent`: the agent's own state (synced build contexts). */
  stateDir: string;
  /** Where the agent logs one line per call (default: nowhere). */
  log?: (line: string) => void;
}

export interface AgentServer {
  /** The addresses served, with the ports the system chose for `:0`. */
  addresses: string[];
  /** Stops accepting calls, cancels those in flight after `graceMs`, removes the sockets. */
  stop(graceMs?: number): Promise<void>;
}

/** Removes a unix socket left by an agent that died; refuses to replace one that answers, or a file that is not a socket. */
async function clearStaleSocket(file: string): Promise<void> {
  let st;
  try {
    st = await lstat(file);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  if (!st.isSocket()) throw failedPrecondition(`${file} exists and is not a socket`, { hint: 'choose another --listen path or remove the file' });
  const live = await new Promise<boolean>((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
  if (live) throw failedPrecondition(`another agent is listening on ${file}`, { hint: 'stop it first, or choose another --listen path' });
  await unlink(file);
}

function bind(server: grpc.Server, target: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(target, creds, (err, port) => (err ? reject(err) : resolve(port))));
}

export async function startAgentServer(opts: AgentServerOptions): Promise<AgentServer> {
  const server = new grpc.Server({ ...CHANNEL_OPTIONS });
  server.addService(engineService().service, methodTable(opts.engine, { stateDir: opts.stateDir }, opts.log));
  const addresses: string[] = [];
  const sockets: string[] = [];
  try {
    for (const a of opts.listen) {
      if (a.kind === 'unix') {
        await mkdir(path.dirname(a.path), { recursive: true, mode: 0o755 });
        await clearStaleSocket(a.path);
        await bind(server, grpcTarget(a), grpc.ServerCredentials.createInsecure());
        await chmod(a.path, 0o660);
        sockets.push(a.path);
        addresses.push(a.url);
      } else {
        if (!opts.tls) throw invalidArgument(`${a.url}: a TCP listener needs TLS certificates`, { hint: 'pass --tlscacert/--tlscert/--tlskey or let kiln agent make them' });
        const creds = grpc.ServerCredentials.createSsl(opts.tls.ca, [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }], true);
        let port: number;
        try {
          port = await bind(server, grpcTarget(a), creds);
        } catch (e) {
          throw failedPrecondition(`cannot listen on ${a.url}: ${(e as Error).message}`, { cause: e, hint: 'choose another port, or stop what uses it' });
        }
        addresses.push(`tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${port}`);
      }
    }
  } catch (e) {
    server.forceShutdown();
    throw e;
  }
  return {
    addresses,
    async stop(graceMs = 2000) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (server.forceShutdown(), resolve()), graceMs);
        server.tryShutdown(() => (clearTimeout(t), resolve()));
      });
      for (const s of sockets) await unlink(s).catch(() => undefined);
    },
  };
}
