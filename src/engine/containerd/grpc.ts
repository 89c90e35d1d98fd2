/**
 * containerd's gRPC API over its unix socket: the services kiln uses, loaded
 * at run time from containerd's own .proto files (copied from Debian's
 * golang-github-containerd-containerd-dev into proto/ by scripts/protos.sh).
 * Every call carries the namespace (and the current lease, if any) as
 * metadata, as containerd's Go client does; gRPC errors become KilnErrors.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { failedPrecondition, type KilnError } from '../../errors.js';
import { fromGrpcError, isConnectionLoss } from './errors.js';

const API = 'github.com/containerd/containerd/api';
const SERVICES = ['version', 'introspection', 'namespaces', 'leases', 'content', 'images', 'snapshots', 'diff', 'events'] as const;
export type ServiceName = (typeof SERVICES)[number];

const FILES: Record<ServiceName, string> = {
  version: `${API}/services/version/v1/version.proto`,
  introspection: `${API}/services/introspection/v1/introspection.proto`,
  namespaces: `${API}/services/namespaces/v1/namespace.proto`,
  leases: `${API}/services/leases/v1/leases.proto`,
  content: `${API}/services/content/v1/content.proto`,
  images: `${API}/services/images/v1/images.proto`,
  snapshots: `${API}/services/snapshots/v1/snapshots.proto`,
  diff: `${API}/services/diff/v1/diff.proto`,
  events: `${API}/services/events/v1/events.proto`,
};
/** Event payloads (the `Any` in an events Envelope) kiln decodes. */
const EVENT_FILES = [`${API}/events/image.proto`];
const PATHS: Record<ServiceName, string[]> = {
  version: ['containerd', 'services', 'version', 'v1', 'Version'],
  introspection: ['containerd', 'services', 'introspection', 'v1', 'Introspection'],
  namespaces: ['containerd', 'services', 'namespaces', 'v1', 'Namespaces'],
  leases: ['containerd', 'services', 'leases', 'v1', 'Leases'],
  content: ['containerd', 'services', 'content', 'v1', 'Content'],
  images: ['containerd', 'services', 'images', 'v1', 'Images'],
  snapshots: ['containerd', 'services', 'snapshots', 'v1', 'Snapshots'],
  diff: ['containerd', 'services', 'diff', 'v1', 'Diff'],
  events: ['containerd', 'services', 'events', 'v1', 'Events'],
};

/** The proto/ folder of the installed kiln (beside dist/). */
export function protoRoot(): string {
  const root = fileURLToPath(new URL('../../../proto/', import.meta.url));
  if (!existsSync(`${root}/${FILES.content}`)) {
    throw failedPrecondition(`containerd API protos are missing from ${root}`, { hint: 'run scripts/protos.sh (scripts/setup.sh does) to copy them from golang-github-containerd-containerd-dev' });
  }
  return root;
}

let loaded: grpc.GrpcObject | undefined;
function definitions(): grpc.GrpcObject {
  if (!loaded) {
    const def = protoLoader.loadSync([...Object.values(FILES), ...EVENT_FILES], {
      includeDirs: [protoRoot()],
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    loaded = grpc.loadPackageDefinition(def);
  }
  return loaded;
}

function serviceConstructor(name: ServiceName): grpc.ServiceClientConstructor {
  let node: unknown = definitions();
  for (const part of PATHS[name]) node = (node as Record<string, unknown>)[part];
  return node as grpc.ServiceClientConstructor;
}

/**
 * Decodes a `google.protobuf.Any` (`{type_url, value}`) whose type is one of
 * the loaded messages (`containerd.services.images.v1.ImageCreate`); undefined
 * for other types.
 */
export function decodeAny(any: { type_url?: string; value?: Buffer } | null | undefined): Message | undefined {
  if (!any?.type_url || !any.value) return undefined;
  let node: unknown = definitions();
  for (const part of any.type_url.slice(any.type_url.lastIndexOf('/') + 1).split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  const type = node as { deserialize?: (b: Buffer) => Message } | undefined;
  return type?.deserialize ? type.deserialize(any.value) : undefined;
}

// Protobuf messages cross this boundary as plain objects (keepCase: snake_case fields).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Message = Record<string, any>;

/** The lease the calls made inside `withLease` carry. */
const currentLease = new AsyncLocalStorage<string>();

export class ContainerdConnection {
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
      const Ctor = serviceConstructor(name);
      c = new Ctor(this.address, grpc.credentials.createInsecure(), { channelOverride: this.channel });
      this.clients.set(name, c);
    }
    return c;
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set('containerd-namespace', this.namespace);
    const lease = currentLease.getStore();
    if (lease) md.set('containerd-lease', lease);
    return md;
  }

  /** The lease active for calls made now, if any. */
  lease(): string | undefined {
    return currentLease.getStore();
  }

  /** Runs fn with every call it makes carrying lease `id`. */
  withLeaseId<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return currentLease.run(id, fn);
  }

  private readonly active = new Set<{ cancel(): void }>();
  private keepalive: NodeJS.Timeout | undefined;
  private lost: KilnError | undefined;

  /**
   * Holds the process open while calls are in flight (grpc-js waits for a
   * reconnect on unref'd timers: without this a CLI whose containerd went away
   * could reach an empty event loop and exit 0 with a call unsettled).
   */
  private begin(call: { cancel(): void }): () => void {
    if (this.active.size === 0) this.keepalive = setInterval(() => undefined, 1 << 30);
    this.active.add(call);
    return () => {
      if (this.active.delete(call) && this.active.size === 0) clearInterval(this.keepalive);
    };
  }

  /**
   * Maps a gRPC failure to a KilnError. When it says containerd is gone, every
   * other call in flight is cancelled and later calls fail at once with the
   * same error: grpc-js would otherwise keep them waiting for a reconnect.
   */
  failure(e: grpc.ServiceError, what: string): KilnError {
    if (this.lost) return this.lost;
    const err = fromGrpcError(e, what, this.address);
    if (isConnectionLoss(e)) {
      this.lost = err;
      for (const c of [...this.active]) c.cancel();
    }
    return err;
  }

  /** One unary call; `what` names the subject for error messages (`content sha256:…`). */
  unary(service: ServiceName, method: string, request: Message, what: string, deadlineMs?: number): Promise<Message> {
    const c = this.client(service) as unknown as Record<string, (req: Message, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Message) => void) => grpc.ClientUnaryCall>;
    const fn = c[method];
    if (!fn) throw new Error(`containerd ${service} has no method ${method}`);
    if (this.lost) return Promise.reject(this.lost);
    const opts: grpc.CallOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
    return new Promise((resolve, reject) => {
      let end = () => undefined as void;
      const call = fn.call(c, request, this.metadata(), opts, (err, res) => {
        end();
        if (err) reject(this.failure(err, what));
        else resolve(res);
      });
      end = this.begin(call);
    });
  }

  /** A server stream as an async iterable of messages; it ends (without an error) when the signal aborts. */
  async *serverStream(service: ServiceName, method: string, request: Message, what: string, signal?: AbortSignal): AsyncGenerator<Message> {
    if (this.lost) throw this.lost;
    if (signal?.aborted) return;
    const c = this.client(service) as unknown as Record<string, (req: Message, md: grpc.Metadata) => grpc.ClientReadableStream<Message>>;
    const call = c[method]!.call(c, request, this.metadata());
    const end = this.begin(call);
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
    if (this.lost) throw this.lost;
    const c = this.client(service) as unknown as Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<Message, Message>>;
    const call = c[method]!.call(c, this.metadata());
    const end = this.begin(call);
    call.once('close', end);
    call.once('error', end);
    return call;
  }

  close(): void {
    for (const c of [...this.active]) c.cancel();
    clearInterval(this.keepalive);
    for (const c of this.clients.values()) c.close();
    this.channel.close();
  }
}
