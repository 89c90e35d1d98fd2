/**
 * containerd's gRPC API over its unix socket: the services kiln uses, from
 * containerd's own .proto files (copied from Debian's
 * golang-github-containerd-containerd-dev into proto/ by scripts/protos.sh,
 * and generated there into protobuf.js static code, #proto/containerd-api, by
 * scripts/protos-static.mjs: nothing is parsed or compiled at start).
 * Every call carries the namespace (and, on a leased view, its lease) as
 * metadata, as containerd's Go client does; gRPC errors become KilnErrors.
 */
import * as grpc from '@grpc/grpc-js';
import api from '#proto/containerd-api';
import { InflightCalls } from '../inflight.js';
import { messageClass, serviceConstructor, type AsObject, type Message } from '../grpc-service.js';
import type { KilnError } from '../../errors.js';
import { fromGrpcError, isConnectionLoss } from './errors.js';

const SERVICES = ['version', 'introspection', 'namespaces', 'leases', 'content', 'images', 'snapshots', 'diff', 'events', 'containers', 'tasks'] as const;
export type ServiceName = (typeof SERVICES)[number];

const serviceName = (name: ServiceName): string => `containerd.services.${name}.v1.${name[0]!.toUpperCase()}${name.slice(1)}`;

/** Decoded messages as plain objects, as the rest of the backend reads them (snake_case fields kept). */
const AS_OBJECT: AsObject = { longs: Number, enums: String, defaults: true, oneofs: true };

/**
 * Decodes a `google.protobuf.Any` (`{type_url, value}`) whose type is one of
 * the generated messages (`containerd.services.images.v1.ImageCreate`);
 * undefined for other types.
 */
export function decodeAny(any: { type_url?: string; value?: Buffer } | null | undefined): Message | undefined {
  if (!any?.type_url || !any.value) return undefined;
  const type = messageClass(api, any.type_url.slice(any.type_url.lastIndexOf('/') + 1));
  return type?.toObject(type.decode(any.value), AS_OBJECT);
}

// Protobuf messages cross this boundary as plain objects (keepCase: snake_case fields).
export type { Message };

export class ContainerdConnection {
  /** The lease every call of this view carries (leased()); none on the connection itself. */
  private readonly leaseId: string | undefined = undefined;

  private readonly channel: grpc.Channel;
  private readonly clients = new Map<ServiceName, grpc.Client>();

  constructor(
    readonly address: string,
    readonly namespace: string,
  ) {
    this.channel = new grpc.Channel(`unix://${address}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 16 << 20,
      'grpc.max_send_message_length': 16 << 20,
    });
  }

  private client(name: ServiceName): grpc.Client {
    let c = this.clients.get(name);
    if (!c) {
      const Ctor = serviceConstructor(api, serviceName(name), AS_OBJECT);
      c = new Ctor(this.address, grpc.credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(name, c);
    }
    return c;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('containerd-namespace', this.namespace);
    if (this.leaseId) md.set('containerd-lease', this.leaseId);
    return md;
  }

  /** The lease this view's calls carry, if any. */
  lease(): string | undefined {
    return this.leaseId;
  }

  /**
   * A view of this connection whose every call carries lease `id` (passed,
   * not implied: no AsyncLocalStorage, whose hooks would run on every promise).
   * It shares the channel, the service clients and the calls in flight: its
   * other members are this object's, through the prototype.
   */
  leased(id: string): ContainerdConnection {
    const view = Object.create(this) as ContainerdConnection;
    Object.defineProperty(view, 'leaseId', { value: id });
    return view;
  }

  private readonly calls = new InflightCalls();


  /**
   * Maps a gRPC failure to a KilnError. When it says containerd is gone, every
   * other call in flight is cancelled and later calls fail at once with the
   * same error: grpc-js would otherwise keep them waiting for a reconnect.
   */
  failure(e: grpc.ServiceError, what: string): KilnError {
    if (this.calls.lost) return this.calls.lost;
    const err = fromGrpcError(e, what, this.address);
    return isConnectionLoss(e) ? this.calls.lose(err) : err;
  }

  /** One unary call; `what` names the subject for error messages (`content sha256:…`). */
  unary(service: ServiceName, method: string, request: Message, what: string, deadlineMs?: number): Promise<Message> {
    const c = this.client(service) as unknown as Record<string, (req: Message, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Message) => void) => grpc.ClientUnaryCall>;
    const fn = c[method];
    if (!fn) throw new Error(`containerd ${service} has no method ${method}`);
    if (this.calls.lost) return Promise.reject(this.calls.lost);
    const opts: grpc.CallOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
    return new Promise((resolve, reject) => {
      let end = () => undefined as void;
      const call = fn.call(c, request, this.metadata(), opts, (err, res) => {
        end();
        if (err) reject(this.failure(err, what));
        else resolve(res);
      });
      end = this.calls.begin(call);
    });
  }

  /** A server stream as an async iterable of messages; it ends (without an error) when the signal aborts. */
  async *serverStream(service: ServiceName, method: string, request: Message, what: string, signal?: AbortSignal): AsyncGenerator<Message> {
    if (this.calls.lost) throw this.calls.lost;
    if (signal?.aborted) return;
    const c = this.client(service) as unknown as Record<string, (req: Message, md: grpc.Metadata) => grpc.ClientReadableStream<Message>>;
    const call = c[method]!.call(c, request, this.metadata());
    const end = this.calls.begin(call);
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const m of call) {
        if (signal?.aborted) return;
        yield m as Message;
      }
    } catch (e) {
      if (signal?.aborted) return;
      throw this.failure(e as grpc.ServiceError, what);
    } finally {
      signal?.removeEventListener('abort', cancel);
      end();
      call.cancel();
    }
  }

  /** A bidirectional stream (content Write); its errors go through failure(). */
  duplex(service: ServiceName, method: string): grpc.ClientDuplexStream<Message, Message> {
    if (this.calls.lost) throw this.calls.lost;
    const c = this.client(service) as unknown as Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<Message, Message>>;
    const call = c[method]!.call(c, this.metadata());
    const end = this.calls.begin(call);
    call.once('close', end);
    call.once('error', end);
    return call;
  }

  close(): void {
    this.calls.cancelAll();
    for (const c of this.clients.values()) c.close();
    this.channel.close();
  }
}
