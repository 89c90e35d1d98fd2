/**
 * The client's connection to a kiln agent: one gRPC channel (mutual TLS over
 * TCP, plain over a unix socket) and the three call shapes the Engine API
 * uses — unary, server stream, client stream — each with its failures mapped
 * to KilnErrors naming the agent. Calls carry the client's metadata (the
 * forwarded registry credentials, see credentials.ts).
 */
import net from 'node:net';
import { checkServerIdentity } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { InflightCalls } from '../inflight.js';
import type { KilnError } from '../../errors.js';
import { grpcTarget, type AgentAddress } from './address.js';
import { fromStatus, isConnectionLoss, type ClientTls } from './errors.js';
import { CHANNEL_OPTIONS, engineService, type JsonMsg } from './proto.js';
import type { TlsMaterial } from '../../tls/client.js';

type Unary = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: JsonMsg) => void) => grpc.ClientUnaryCall;
type ServerStream = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;
type ClientStream = (md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: JsonMsg) => void) => grpc.ClientWritableStream<unknown>;
type Duplex = (md: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, unknown>;

export class AgentConnection {
  private readonly client: grpc.Client;
  private readonly calls = new InflightCalls();

  constructor(
    readonly address: AgentAddress,
    tls: TlsMaterial | undefined,
    /** How messages name the agent (default: its address), e.g. the pod a kube tunnel reaches. */
    private readonly label?: string,
  ) {
    // A receive window of a few chunks: a save streams at disk speed instead of one 64 KiB window per round trip.
    const options: grpc.ChannelOptions = { ...CHANNEL_OPTIONS, 'grpc.initial_reconnect_backoff_ms': 200, 'grpc-node.flow_control_window': 8 << 20 };
    let verify: grpc.VerifyOptions = {};
    if (tls && address.kind === 'tcp' && net.isIP(address.host)) {
      // TLS forbids an IP address as the SNI name (Node warns): send a placeholder name, and check
      // the certificate against the address dialled all the same.
      const ip = address.host;
      options['grpc.ssl_target_name_override'] = 'kiln-agent.invalid';
      verify = { checkServerIdentity: (_name, cert) => checkServerIdentity(ip, cert) };
    }
    const creds = tls ? grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null, verify) : grpc.credentials.createInsecure();
    const Ctor = engineService();
    this.client = new Ctor(grpcTarget(address), creds, options);
    this.tls = !tls ? 'none' : tls.cert ? 'cert' : 'no-cert';
  }

  readonly tls: ClientTls;

  get host(): string {
    return this.label ?? this.address.url;
  }

  /** Extra metadata for calls (set per call by the engine). */
  metadata(extra?: Record<string, string>): grpc.Metadata {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(extra ?? {})) md.set(k, v);
    return md;
  }


  /** A failed call → KilnError; a lost agent fails every other call in flight at once, with the same error. */
  failure(e: grpc.ServiceError, what: string): KilnError {
    if (this.calls.lost) return this.calls.lost;
    const err = fromStatus(e, this.host, what, this.tls);
    return isConnectionLoss(e) ? this.calls.lose(err) : err;
  }

  private method<T>(name: string): T {
    const fn = (this.client as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw new Error(`the agent API has no method ${name}`);
    return (fn as (...a: unknown[]) => unknown).bind(this.client) as T;
  }

  unary<T>(method: string, request: unknown, what: string, md?: grpc.Metadata): Promise<T> {
    if (this.calls.lost) return Promise.reject(this.calls.lost);
    return new Promise((resolve, reject) => {
      let end = () => undefined as void;
      const call = this.method<Unary>(method)(request, md ?? this.metadata(), {}, (err, res) => {
        end();
        if (err) reject(this.failure(err, what));
        else resolve((res?.json ? JSON.parse(res.json) : undefined) as T);
      });
      end = this.calls.begin(call);
    });
  }

  /** A server stream as an async iterable of messages; `signal` cancels the call (and the agent's work). */
  async *serverStream<M>(method: string, request: unknown, what: string, opts: { signal?: AbortSignal; md?: grpc.Metadata } = {}): AsyncGenerator<M> {
    if (this.calls.lost) throw this.calls.lost;
    const call = this.method<ServerStream>(method)(request, opts.md ?? this.metadata(), {});
    const end = this.calls.begin(call);
    const abort = () => call.cancel();
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      for await (const m of call) yield m as M;
    } catch (e) {
      throw this.failure(e as grpc.ServiceError, what);
    } finally {
      opts.signal?.removeEventListener('abort', abort);
      end();
      call.cancel();
    }
  }

  /** A client stream: `write` sends the messages (respecting flow control), the reply is the result. */
  async clientStream<T>(method: string, what: string, write: (call: grpc.ClientWritableStream<unknown>) => Promise<void>, md?: grpc.Metadata): Promise<T> {
    if (this.calls.lost) throw this.calls.lost;
    let end = () => undefined as void;
    let call: grpc.ClientWritableStream<unknown> | undefined;
    const reply = new Promise<T>((resolve, reject) => {
      call = this.method<ClientStream>(method)(md ?? this.metadata(), {}, (err, res) => {
        end();
        if (err) reject(this.failure(err, what));
        else resolve((res?.json ? JSON.parse(res.json) : undefined) as T);
      });
    });
    end = this.calls.begin(call!);
    try {
      await write(call!);
      call!.end();
    } catch (e) {
      call!.cancel();
      reply.catch(() => undefined);
      throw e;
    }
    return reply;
  }

  /** A bidirectional stream (builds); its errors go through failure(). */
  duplex(method: string, md?: grpc.Metadata): grpc.ClientDuplexStream<unknown, unknown> {
    if (this.calls.lost) throw this.calls.lost;
    const call = this.method<Duplex>(method)(md ?? this.metadata(), {});
    const end = this.calls.begin(call);
    call.once('close', end);
    call.once('error', end);
    call.once('end', end);
    return call;
  }

  /**
   * Starts connecting (TCP, TLS handshake, HTTP/2 settings) without a call, so the work a command
   * does before its first call (a build's context scan) overlaps the handshake's round trips.
   */
  warm(): void {
    this.client.getChannel().getConnectivityState(true);
  }

  close(): void {
    this.calls.cancelAll();
    this.client.close();
  }
}
